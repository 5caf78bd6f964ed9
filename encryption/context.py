"""Encryption contexts: validation, canonical bytes, and the part sent to the key service.

An encryption context is a flat ``{str: str}`` mapping such as
``{"silo": "aws", "dataset": "train", "batch": "000042"}``. It is never secret, but
it is authenticated: an envelope opens only with exactly the context it was sealed
with. Two views of it exist:

* the **full context** is hashed (SHA-256 over its canonical JSON) into the envelope
  header and bound into the AES-GCM associated data, so moving a batch's bytes to
  another batch's key, or decrypting it "as" another dataset, fails;
* the **key-service context** drops per-object keys (``batch``, ``object``) and is
  what goes to the key service (KMS EncryptionContext, Cloud KMS AAD, the local
  KEK's AAD). One cached data key can therefore serve a whole dataset, while each
  object is still bound to its own full context by AES-GCM.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from encryption.errors import InvalidContext

#: Context keys that identify a single object; they stay out of the key-service context.
PER_OBJECT_KEYS: frozenset[str] = frozenset({"batch", "object"})
MAX_CONTEXT_ITEMS = 32
MAX_CONTEXT_CHARS = 1024


def validate_context(context: Mapping[str, str]) -> dict[str, str]:
    """A plain dict copy of the context, or InvalidContext naming the offending key."""
    if not isinstance(context, Mapping):
        raise InvalidContext(f"encryption context must be a mapping, got {type(context).__name__}")
    if len(context) > MAX_CONTEXT_ITEMS:
        raise InvalidContext(f"encryption context has {len(context)} items; at most {MAX_CONTEXT_ITEMS}")
    out: dict[str, str] = {}
    for key, value in context.items():
        if not isinstance(key, str) or not key:
            raise InvalidContext("encryption context keys must be non-empty strings")
        if key.startswith("aws:"):
            raise InvalidContext(f"context key {key!r}: the 'aws:' prefix is reserved by AWS KMS")
        if not isinstance(value, str) or not value:
            raise InvalidContext(f"context value of {key!r} must be a non-empty string")
        if len(key) + len(value) > MAX_CONTEXT_CHARS:
            raise InvalidContext(f"context item {key!r} is longer than {MAX_CONTEXT_CHARS} characters")
        out[key] = value
    return out


def canonical_context(context: Mapping[str, str]) -> bytes:
    """Canonical JSON: keys sorted, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(
        validate_context(context), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def context_sha256(context: Mapping[str, str]) -> bytes:
    """The 32-byte SHA-256 of the canonical context (what the header records)."""
    return hashlib.sha256(canonical_context(context)).digest()


def key_service_context(context: Mapping[str, str]) -> dict[str, str]:
    """The context without per-object keys: what the key service sees and binds."""
    return {k: v for k, v in validate_context(context).items() if k not in PER_OBJECT_KEYS}
