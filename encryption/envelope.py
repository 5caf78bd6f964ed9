"""Envelope encryption: seal bytes under a fresh data key that a key service wraps.

Library use::

    from encryption.envelope import encrypt, decrypt
    blob = encrypt(data, provider, {"silo": "aws", "dataset": "train", "batch": "000001"})
    data = decrypt(blob, provider, {"silo": "aws", "dataset": "train", "batch": "000001"})

Command line (``python -m encryption --help``, in ``encryption/cli.py``): keygen, encrypt, decrypt,
rewrap, rotate, header. The format is documented in ``encryption/README.md`` and
:mod:`encryption.format`.
"""
from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from encryption.context import context_sha256
from encryption.errors import ContextMismatch, DecryptionFailed, KeyServiceError
from encryption.format import ALG, NONCE_BYTES, TAG_BYTES, VERSION, Header, parse
from encryption.providers.base import KeyProvider

__all__ = ["Header", "decrypt", "decrypt_body", "encrypt", "open_header", "read_header"]


def encrypt(plaintext: bytes, provider: KeyProvider, context: Mapping[str, str]) -> bytes:
    """Seal plaintext; the result opens only with the same provider's key and the same context.

    Returns a ``bytearray`` (bytes-like): the ciphertext is written straight after the
    header, which avoids copying a large buffer a second time.
    """
    # BEGIN SOLUTION ex03
    digest = context_sha256(context)
    data_key = provider.data_key_for_message(context, len(plaintext))
    if data_key.provider != provider.name:
        raise KeyServiceError(f"provider {provider.name!r} returned a data key of {data_key.provider!r}")
    header = Header(
        version=VERSION,
        alg=ALG,
        provider=provider.name,
        key_id=data_key.key_id,
        wrapped_key=data_key.wrapped,
        nonce=os.urandom(NONCE_BYTES),
        context_sha256=digest,
    )
    prefix = header.encode()
    out = bytearray(len(prefix) + len(plaintext) + TAG_BYTES)
    out[: len(prefix)] = prefix
    AESGCM(data_key.plaintext).encrypt_into(header.nonce, plaintext, header.aad(), memoryview(out)[len(prefix) :])
    return out
    # END SOLUTION ex03


def read_header(blob: bytes) -> Header:
    """The envelope's header, checked for shape only (not authenticity)."""
    return parse(blob)[0]


def open_header(blob: bytes, provider: KeyProvider, context: Mapping[str, str]) -> tuple[Header, int, bytes]:
    """Check context and provider, then unwrap: returns header, body offset and the data key.

    The context is compared with the header's hash *before* any key-service call, so a
    wrong context costs nothing and reveals nothing.
    """
    # BEGIN SOLUTION ex03
    header, body_offset = parse(blob)
    if not hmac.compare_digest(header.context_sha256, context_sha256(context)):
        raise ContextMismatch("encryption context does not match the one this envelope was sealed with")
    if header.provider != provider.name:
        raise KeyServiceError(
            f"envelope was wrapped by key provider {header.provider!r}, not {provider.name!r}"
        )
    data_key = provider.unwrap_data_key(header.wrapped_key, header.key_id, context)
    return header, body_offset, data_key
    # END SOLUTION ex03


def decrypt(blob: bytes, provider: KeyProvider, context: Mapping[str, str]) -> bytes:
    """Open an envelope, or raise an :class:`~encryption.errors.EnvelopeError` (never partial output).

    Order: format and version, context hash (ContextMismatch, no key-service call),
    provider name, unwrap (key service), then AES-GCM (DecryptionFailed on any tamper).
    Returns a ``bytearray`` (bytes-like), for the same reason as :func:`encrypt`.
    """
    header, body_offset, data_key = open_header(blob, provider, context)
    return decrypt_body(blob, header, body_offset, data_key)


def decrypt_body(blob: bytes, header: Header, body_offset: int, data_key: bytes) -> bytearray:
    """AES-GCM-open the body with an already unwrapped data key (after :func:`open_header`)."""
    body = memoryview(blob)[body_offset:]
    out = bytearray(len(body) - TAG_BYTES)
    try:
        AESGCM(data_key).decrypt_into(header.nonce, body, header.aad(), out)
    except InvalidTag:
        raise DecryptionFailed(
            "envelope failed authentication (tampered, truncated, or sealed under another data key)"
        ) from None
    return out
