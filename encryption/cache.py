"""Reuse data keys within limits, like the AWS Encryption SDK's caching CMM.

Asking the key service for a data key per batch costs a network round trip and
(in a real cloud) money and quota. A :class:`CachingKeyProvider` reuses one data
key per *key-service context* (silo, dataset — not batch) until any limit is hit:
age, number of messages, or bytes encrypted. Unwrapped keys are cached too (a
bounded LRU), so verifying many batches costs a few key-service calls, not one per
batch. Every envelope still gets its own random nonce and is bound to its full
context by AES-GCM, so reusing a data key across a dataset's batches is safe
within these limits (2^32 messages per key is the GCM random-nonce bound; the
default stays far below).

Why hand-written: the AWS Encryption SDK's cache works only with its own message
format and AWS keyrings; here the cache wraps any provider in ~100 lines.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from encryption.context import canonical_context, key_service_context
from encryption.providers.base import DataKey, KeyProvider

DEFAULT_MAX_AGE_S = 300.0
DEFAULT_MAX_MESSAGES = 10_000
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_MAX_UNWRAPPED = 1024


@dataclass
class _Entry:
    key: DataKey
    created: float
    messages: int = 0
    bytes: int = 0


class CachingKeyProvider(KeyProvider):
    """Wraps another provider; same name in headers, fewer key-service calls."""

    def __init__(
        self,
        inner: KeyProvider,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_unwrapped: int = DEFAULT_MAX_UNWRAPPED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_s <= 0 or max_messages < 1 or max_bytes < 1 or max_unwrapped < 0:
            raise ValueError("cache limits must be positive")
        self.inner = inner
        self.max_age_s = float(max_age_s)
        self.max_messages = int(max_messages)
        self.max_bytes = int(max_bytes)
        self.max_unwrapped = int(max_unwrapped)
        self._clock = clock
        self._lock = threading.Lock()
        self._encrypt: dict[bytes, _Entry] = {}
        self._decrypt: OrderedDict[tuple[str, bytes, bytes], tuple[bytes, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property  # type: ignore[override]
    def name(self) -> str:  # the inner provider's name goes into headers
        return self.inner.name

    @property
    def calls(self) -> int:
        return self.inner.calls

    def current_key_id(self) -> str:
        return self.inner.current_key_id()

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        return self.inner.generate_data_key(context)

    def wrap_data_key(self, plaintext: bytes, context: Mapping[str, str]) -> DataKey:
        return self.inner.wrap_data_key(plaintext, context)

    def data_key_for_message(self, context: Mapping[str, str], plaintext_length: int) -> DataKey:
        """A cached data key if the entry stays within every limit after this message."""
        # BEGIN SOLUTION ex04
        if plaintext_length > self.max_bytes:
            return self.inner.generate_data_key(context)  # too big to ever share a key: bypass
        slot = canonical_context(key_service_context(context))
        now = self._clock()
        with self._lock:
            entry = self._encrypt.get(slot)
            if (
                entry is None
                or now - entry.created >= self.max_age_s
                or entry.messages + 1 > self.max_messages
                or entry.bytes + plaintext_length > self.max_bytes
            ):
                self.misses += 1
                entry = _Entry(key=self.inner.generate_data_key(context), created=now)
                self._encrypt[slot] = entry
                self._remember_unwrap(entry.key.key_id, entry.key.wrapped, slot, entry.key.plaintext, now)
            else:
                self.hits += 1
            entry.messages += 1
            entry.bytes += plaintext_length
            return entry.key
        # END SOLUTION ex04

    def _remember_unwrap(self, key_id: str, wrapped: bytes, slot: bytes, plaintext: bytes, now: float) -> None:
        if self.max_unwrapped == 0:
            return
        self._decrypt[(key_id, bytes(wrapped), slot)] = (plaintext, now)
        self._decrypt.move_to_end((key_id, bytes(wrapped), slot))
        while len(self._decrypt) > self.max_unwrapped:
            self._decrypt.popitem(last=False)

    def unwrap_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        """A cached unwrap (same key id, wrapped bytes and key-service context) or the inner service."""
        slot = canonical_context(key_service_context(context))
        lookup = (key_id, bytes(wrapped), slot)
        now = self._clock()
        with self._lock:
            found = self._decrypt.get(lookup)
            if found is not None and now - found[1] < self.max_age_s:
                self._decrypt.move_to_end(lookup)
                self.hits += 1
                return found[0]
        plaintext = self.inner.unwrap_data_key(wrapped, key_id, context)
        with self._lock:
            self.misses += 1
            self._remember_unwrap(key_id, wrapped, slot, plaintext, now)
        return plaintext

    def clear(self) -> None:
        """Forget every cached key (e.g. after a rotation, to pick up the new key at once)."""
        with self._lock:
            self._encrypt.clear()
            self._decrypt.clear()
