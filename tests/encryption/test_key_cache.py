"""CachingKeyProvider: reuse within age/message/byte limits; cached unwraps; call counts."""
from __future__ import annotations

import pytest

from encryption.cache import CachingKeyProvider
from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import ContextMismatch, DecryptionFailed
from encryption.providers.aws_kms import AwsKmsProvider
from encryption.providers.local import LocalKeyProvider


class Clock:
    """A clock the test moves by hand (time itself, not a service, is what is faked)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ctx(batch: int, dataset: str = "train") -> dict[str, str]:
    return {"silo": "aws", "dataset": dataset, "batch": f"{batch:06d}"}


def test_one_data_key_per_dataset_within_limits(local_provider: LocalKeyProvider) -> None:
    cache = CachingKeyProvider(local_provider)
    blobs = [bytes(encrypt(b"batch", cache, ctx(i))) for i in range(20)]
    assert local_provider.calls == 1 and cache.calls == 1
    assert len({read_header(b).wrapped_key for b in blobs}) == 1
    assert len({read_header(b).nonce for b in blobs}) == 20
    bytes(encrypt(b"batch", cache, ctx(0, dataset="test")))
    assert cache.calls == 2  # another key-service context, another data key
    # each batch is still bound to its own full context
    with pytest.raises(ContextMismatch):
        decrypt(blobs[0], cache, ctx(1))


def test_message_limit(local_provider: LocalKeyProvider) -> None:
    cache = CachingKeyProvider(local_provider, max_messages=3)
    keys = [read_header(bytes(encrypt(b"m", cache, ctx(i)))).wrapped_key for i in range(7)]
    assert local_provider.calls == 3  # 3 + 3 + 1 messages
    assert keys[0] == keys[2] != keys[3] == keys[5] != keys[6]


def test_byte_limit_and_bypass_for_oversized_messages(local_provider: LocalKeyProvider) -> None:
    cache = CachingKeyProvider(local_provider, max_bytes=100)
    for i in range(4):
        encrypt(b"x" * 40, cache, ctx(i))  # 40, 80 | 40, 80
    assert local_provider.calls == 2
    encrypt(b"x" * 101, cache, ctx(9))
    encrypt(b"x" * 101, cache, ctx(10))
    assert local_provider.calls == 4  # too big to share: a fresh key each time


def test_age_limit(local_provider: LocalKeyProvider) -> None:
    clock = Clock()
    cache = CachingKeyProvider(local_provider, max_age_s=10, clock=clock)
    encrypt(b"a", cache, ctx(1))
    clock.now += 9.9
    encrypt(b"b", cache, ctx(2))
    assert local_provider.calls == 1
    clock.now += 0.2
    encrypt(b"c", cache, ctx(3))
    assert local_provider.calls == 2


def test_unwraps_are_cached_and_bounded(local_provider: LocalKeyProvider, key_file) -> None:  # type: ignore[no-untyped-def]
    writer = CachingKeyProvider(LocalKeyProvider(key_file), max_messages=2)
    blobs = [bytes(encrypt(b"data", writer, ctx(i))) for i in range(6)]  # 3 distinct data keys
    reader = CachingKeyProvider(local_provider, max_unwrapped=2)
    for blob, i in zip(blobs, range(6)):
        assert decrypt(blob, reader, ctx(i)) == b"data"
    assert local_provider.calls == 3
    assert decrypt(blobs[0], reader, ctx(0)) == b"data"  # evicted (LRU of 2): asks again
    assert local_provider.calls == 4
    assert len(reader._decrypt) == 2


def test_cached_unwrap_does_not_bypass_authentication(local_provider: LocalKeyProvider) -> None:
    cache = CachingKeyProvider(local_provider)
    blob = bytearray(encrypt(b"payload", cache, ctx(1)))
    blob[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        decrypt(bytes(blob), cache, ctx(1))
    header = read_header(bytes(blob))
    with pytest.raises(DecryptionFailed):  # wrong key-service context is not served from the cache
        cache.unwrap_data_key(header.wrapped_key, header.key_id, ctx(1, dataset="test"))


def test_kms_call_counts_against_moto(kms_key: str) -> None:
    kms = AwsKmsProvider(kms_key)
    cache = CachingKeyProvider(kms)
    blobs = [bytes(encrypt(b"r" * 100, cache, ctx(i))) for i in range(50)]
    assert kms.calls == 1  # one GenerateDataKey for 50 batches of one dataset
    verifier = CachingKeyProvider(AwsKmsProvider(kms_key))
    assert all(decrypt(b, verifier, ctx(i)) == b"r" * 100 for i, b in enumerate(blobs))
    assert verifier.calls == 1  # one Decrypt to verify all 50


def test_limits_are_validated(local_provider: LocalKeyProvider) -> None:
    with pytest.raises(ValueError):
        CachingKeyProvider(local_provider, max_messages=0)
