"""The key-service interface every provider implements (local file, AWS KMS, Key Vault, Cloud KMS).

A provider does one job: turn a fresh 256-bit data key into a *wrapped* data key
that only its key service can turn back, bound to the key-service context (see
:mod:`encryption.context`). Providers receive the full encryption context and call
:func:`key_service_context` themselves, so callers never have to know which part
goes to the key service.
"""
from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from encryption.context import key_service_context
from encryption.errors import KeyServiceError
from encryption.format import KEY_BYTES

__all__ = ["DataKey", "KeyProvider", "key_service_context", "new_data_key"]

_CALLS_LOCK = threading.Lock()


@dataclass(frozen=True)
class DataKey:
    """A data key in both forms. ``plaintext`` must never be logged or stored."""

    plaintext: bytes = field(repr=False)
    wrapped: bytes
    key_id: str
    provider: str

    def __post_init__(self) -> None:
        if len(self.plaintext) != KEY_BYTES:
            raise KeyServiceError(f"{self.provider}: data key must be {KEY_BYTES} bytes")


def new_data_key() -> bytes:
    """32 bytes from the OS CSPRNG, for providers whose service only wraps."""
    return os.urandom(KEY_BYTES)


class KeyProvider(ABC):
    """One key service behind a small interface.

    ``calls`` counts requests made to the key service (not cache hits), so steps
    can report how many key-service calls their encryption cost.
    """

    #: provider name written into envelope headers ("local", "aws-kms", ...)
    name: ClassVar[str]

    _calls: int = 0  # per instance once counted; a class default so subclasses need no super().__init__()

    @property
    def calls(self) -> int:
        """Key-service calls made so far."""
        return self._calls

    def _count_call(self) -> None:
        """Providers call this once per request sent to their key service."""
        with _CALLS_LOCK:
            self._calls += 1

    @abstractmethod
    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        """A fresh data key, wrapped under the current key with the key-service context."""

    @abstractmethod
    def unwrap_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        """The 32-byte data key; DecryptionFailed if it does not open, KeyServiceError if unreachable."""

    @abstractmethod
    def wrap_data_key(self, plaintext: bytes, context: Mapping[str, str]) -> DataKey:
        """Wrap an existing data key under the current key (used by re-wrap after rotation)."""

    def current_key_id(self) -> str:
        """The key id new envelopes get; re-wrap skips envelopes already under it.

        Default: wrap a throwaway key once and read the id the service reports.
        Providers that know it without a call override this.
        """
        return self.wrap_data_key(new_data_key(), {}).key_id

    def data_key_for_message(self, context: Mapping[str, str], plaintext_length: int) -> DataKey:
        """The data key for one message. Caches override this to reuse keys within limits."""
        return self.generate_data_key(context)
