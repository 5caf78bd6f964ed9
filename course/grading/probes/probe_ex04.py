"""ex04 against the copy's encryption.cache: reuse within limits, never across contexts."""
from __future__ import annotations

import pytest

from encryption.cache import CachingKeyProvider
from encryption.providers.local import LocalKeyProvider, create_key_file

A = {"silo": "aws", "dataset": "d1", "batch": "1"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def inner(tmp_path) -> LocalKeyProvider:
    create_key_file(tmp_path / "kek.json")
    return LocalKeyProvider(tmp_path / "kek.json")


def test_ex04_batches_of_one_dataset_share_a_key(inner) -> None:
    cache = CachingKeyProvider(inner)
    keys = {cache.data_key_for_message({**A, "batch": str(i)}, 100).plaintext for i in range(5)}
    assert len(keys) == 1 and inner.calls == 1


def test_ex04_contexts_never_share_a_key(inner) -> None:
    cache = CachingKeyProvider(inner)
    k1 = cache.data_key_for_message(A, 10).plaintext
    k2 = cache.data_key_for_message({**A, "dataset": "d2"}, 10).plaintext
    k3 = cache.data_key_for_message({**A, "silo": "gcp"}, 10).plaintext
    assert len({k1, k2, k3}) == 3


def test_ex04_message_limit(inner) -> None:
    cache = CachingKeyProvider(inner, max_messages=3)
    keys = [cache.data_key_for_message(A, 1).plaintext for _ in range(7)]
    assert len(set(keys[:3])) == 1 and keys[3] != keys[0] and len(set(keys)) == 3


def test_ex04_byte_limit(inner) -> None:
    cache = CachingKeyProvider(inner, max_bytes=1000)
    first = cache.data_key_for_message(A, 600).plaintext
    assert cache.data_key_for_message(A, 600).plaintext != first


def test_ex04_age_limit(inner) -> None:
    clock = Clock()
    cache = CachingKeyProvider(inner, max_age_s=10, clock=clock)
    first = cache.data_key_for_message(A, 1).plaintext
    clock.now = 5
    assert cache.data_key_for_message(A, 1).plaintext == first
    clock.now = 11
    assert cache.data_key_for_message(A, 1).plaintext != first
