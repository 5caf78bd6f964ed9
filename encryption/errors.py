"""Errors of the envelope layer.

Every message is safe to print: it may name a key id, a provider, a context key or
an object key, but never key bytes, wrapped-key bytes or plaintext.
"""
from __future__ import annotations


class EnvelopeError(Exception):
    """Base class: anything that stops an envelope from being written or read."""


class MalformedEnvelope(EnvelopeError):
    """The bytes are not an envelope of a known shape (bad magic, truncated, bad header)."""


class UnsupportedVersion(EnvelopeError):
    """The envelope declares a format version (or algorithm) this code does not read."""


class ContextMismatch(EnvelopeError):
    """The caller's encryption context is not the one the envelope was written with."""


class InvalidContext(EnvelopeError, ValueError):
    """An encryption context that is not a flat mapping of non-empty strings."""


class DecryptionFailed(EnvelopeError):
    """Authentication failed: the envelope was tampered with, or the key is the wrong one."""


class KeyServiceError(EnvelopeError):
    """The key service is unavailable, denied the call, or does not know the key."""
