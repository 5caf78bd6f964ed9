"""The envelope byte format, version 1 (see ``encryption/README.md`` for the full layout).

::

    offset   size  field
    0        4     magic  b"SAIE"  ("Secure AI Envelope")
    4        1     format version (1)
    5        4     H = header length, unsigned big-endian
    9        H     header: canonical JSON, ASCII (keys sorted, no spaces)
    9+H      N     AES-256-GCM ciphertext of the N-byte plaintext
    9+H+N    16    GCM tag

The AES-GCM associated data (AAD) is ``magic || version || alg || nonce ||
context_sha256`` (60 bytes in v1). It covers what must never change for a given
body (format, algorithm, nonce, full encryption context) and leaves out what
re-wrapping changes (provider, key id, wrapped data key), so a key rotation
rewrites only the header. A wrong or swapped wrapped key still fails: it unwraps
to another data key (or not at all) and the GCM tag does not verify.

Why our own format and not the AWS Encryption SDK's message format: the lab needs one
format across three clouds' key services (and a local one), readable by any AES-GCM
library; the ESDK's keyrings cover AWS KMS only in Python.
"""
from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from typing import Any

from encryption.errors import MalformedEnvelope, UnsupportedVersion

MAGIC = b"SAIE"
VERSION = 1
ALG = "AES-256-GCM"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
CONTEXT_HASH_BYTES = 32
PREFIX = struct.Struct(">4sBI")  # magic, version, header length
MAX_HEADER_BYTES = 64 * 1024
MAX_WRAPPED_KEY_BYTES = 8 * 1024
MAX_NAME_CHARS = 2048
HEADER_FIELDS = frozenset({"alg", "context_sha256", "key_id", "nonce", "provider", "wrapped_key"})


@dataclass(frozen=True)
class Header:
    """Everything an envelope says about itself. Nothing here is secret."""

    version: int
    alg: str
    provider: str
    key_id: str
    wrapped_key: bytes
    nonce: bytes
    context_sha256: bytes

    def to_json(self) -> dict[str, str]:
        """The JSON object written in the header (also handy for printing)."""
        return {
            "alg": self.alg,
            "context_sha256": self.context_sha256.hex(),
            "key_id": self.key_id,
            "nonce": base64.b64encode(self.nonce).decode("ascii"),
            "provider": self.provider,
            "wrapped_key": base64.b64encode(self.wrapped_key).decode("ascii"),
        }

    def aad(self) -> bytes:
        """The AES-GCM associated data: binds version, alg, nonce and the full context."""
        return MAGIC + bytes([self.version]) + self.alg.encode("ascii") + self.nonce + self.context_sha256

    def encode(self) -> bytes:
        """Magic, version, header length and the canonical JSON header: everything before the body."""
        body = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
            "ascii"
        )
        if len(body) > MAX_HEADER_BYTES:
            raise MalformedEnvelope(f"header of {len(body)} bytes exceeds {MAX_HEADER_BYTES}")
        return PREFIX.pack(MAGIC, self.version, len(body)) + body


def _b64(obj: dict[str, Any], name: str) -> bytes:
    value = obj[name]
    if not isinstance(value, str):
        raise MalformedEnvelope(f"header field {name!r} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEnvelope(f"header field {name!r} is not valid base64") from None


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj[name]
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        raise MalformedEnvelope(f"header field {name!r} must be a non-empty string")
    return value


def parse(blob: bytes | bytearray | memoryview) -> tuple[Header, int]:
    """Read and strictly check the header. Returns it and the offset where the body starts.

    Strict means: right magic, known version and algorithm, exactly the six header
    fields, canonical encoding (re-encoding gives the same bytes), right sizes, and a
    body at least one tag long. It checks shape only; authenticity is GCM's job.
    """
    view = memoryview(blob)
    if len(view) < PREFIX.size:
        raise MalformedEnvelope(f"too short for an envelope ({len(view)} bytes)")
    magic, version, header_len = PREFIX.unpack_from(view, 0)
    if magic != MAGIC:
        raise MalformedEnvelope("not an envelope (bad magic bytes)")
    if version != VERSION:
        raise UnsupportedVersion(f"envelope format version {version} is not supported (this code reads {VERSION})")
    if header_len > MAX_HEADER_BYTES:
        raise MalformedEnvelope(f"declared header length {header_len} exceeds {MAX_HEADER_BYTES}")
    body_offset = PREFIX.size + header_len
    if len(view) < body_offset + TAG_BYTES:
        raise MalformedEnvelope("envelope is truncated")
    raw = bytes(view[PREFIX.size : body_offset])
    try:
        obj = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedEnvelope("header is not ASCII JSON") from None
    if not isinstance(obj, dict) or set(obj) != HEADER_FIELDS:
        raise MalformedEnvelope(f"header must have exactly the fields {sorted(HEADER_FIELDS)}")
    if obj["alg"] != ALG:
        raise UnsupportedVersion(f"algorithm {str(obj['alg'])[:40]!r} is not supported (expected {ALG})")
    try:
        context_hash = bytes.fromhex(obj["context_sha256"]) if isinstance(obj["context_sha256"], str) else b""
    except ValueError:
        context_hash = b""
    header = Header(
        version=version,
        alg=ALG,
        provider=_text(obj, "provider"),
        key_id=_text(obj, "key_id"),
        wrapped_key=_b64(obj, "wrapped_key"),
        nonce=_b64(obj, "nonce"),
        context_sha256=context_hash,
    )
    if len(header.context_sha256) != CONTEXT_HASH_BYTES:
        raise MalformedEnvelope("header field 'context_sha256' must be 64 hex digits")
    if len(header.nonce) != NONCE_BYTES:
        raise MalformedEnvelope(f"header nonce must be {NONCE_BYTES} bytes")
    if not 0 < len(header.wrapped_key) <= MAX_WRAPPED_KEY_BYTES:
        raise MalformedEnvelope("header wrapped_key has an impossible size")
    if header.encode()[PREFIX.size :] != raw:
        raise MalformedEnvelope("header is not in canonical form")
    return header, body_offset
