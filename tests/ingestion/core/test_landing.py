from __future__ import annotations

import pytest

from encryption.errors import ContextMismatch
from encryption.providers.local import LocalKeyProvider
from ingestion.core import landing
from lab.storage import LocalDirStore
from ingestion.core.validate import DeadLetter
from ingestion.records import Record, RecordError, TrustStore


def test_layout_and_round_trip(store: LocalDirStore, provider: LocalKeyProvider, records: list[Record],
                               trust: TrustStore) -> None:
    key = landing.write_batch(store, provider, "aws", "digits", "shard-0-1", records[:10])
    assert key == "raw/silo=aws/dataset=digits/batch=shard-0-1.jsonl.env"
    landing.write_batch(store, provider, "aws", "digits", "shard-0-11", records[10:15])
    assert records[0].id.encode() not in store.get(key)  # encrypted at rest
    assert [r.id for r in landing.read_batches(store, provider, "aws", "digits", trust)] == \
        [r.id for r in records[:15]]
    dl = [DeadLetter("bad", "label", "shard-0:3", "eA==")]
    dkey = landing.write_deadletters(store, provider, "aws", "shard-0-1", dl)
    assert dkey == "deadletter/silo=aws/batch=shard-0-1.jsonl.env"
    assert list(landing.read_deadletters(store, provider, "aws")) == dl


def test_same_batch_id_overwrites(store: LocalDirStore, provider: LocalKeyProvider, records: list[Record],
                                  trust: TrustStore) -> None:
    for _ in range(2):
        landing.write_batch(store, provider, "aws", "digits", "b1", records[:5])
    assert len(list(landing.read_batches(store, provider, "aws", "digits", trust))) == 5


def test_moved_batch_does_not_decrypt(store: LocalDirStore, provider: LocalKeyProvider,
                                      records: list[Record], trust: TrustStore) -> None:
    key = landing.write_batch(store, provider, "aws", "digits", "b1", records[:5])
    store.put(landing.batch_key("aws", "digits", "b2"), store.get(key))  # copy under another batch id
    with pytest.raises(ContextMismatch):
        list(landing.read_batches(store, provider, "aws", "digits", trust))


def test_reading_reverifies_signatures(store: LocalDirStore, provider: LocalKeyProvider,
                                       records: list[Record]) -> None:
    landing.write_batch(store, provider, "aws", "digits", "b1", records[:3])
    with pytest.raises(RecordError):
        list(landing.read_batches(store, provider, "aws", "digits", TrustStore()))  # trusts nobody


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "..", "a b"])
def test_unsafe_batch_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        landing.batch_key("aws", "digits", bad)
