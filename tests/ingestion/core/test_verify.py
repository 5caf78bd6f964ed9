"""verify_landing fails on every kind of damage, and passes only on a clean landing zone."""
from __future__ import annotations

from encryption.providers.local import LocalKeyProvider
from ingestion.core import landing
from lab.storage import LocalDirStore
from ingestion.core.verify import verify_landing
from ingestion.records import Record, TrustStore


def land_two(store: LocalDirStore, provider: LocalKeyProvider, records: list[Record]) -> None:
    landing.write_batch(store, provider, "aws", "digits", "b1", records[:5])
    landing.write_batch(store, provider, "aws", "digits", "b2", records[5:10])


def test_clean_landing_verifies(store: LocalDirStore, provider: LocalKeyProvider, records: list[Record],
                                trust: TrustStore) -> None:
    land_two(store, provider, records)
    result = verify_landing(store, provider, "aws", "digits", trust, expected_ids={r.id for r in records[:10]},
                            expected_dead_letters=0)
    assert result.verified and result.records == 10 and result.batches == 2


def test_duplicates_missing_and_tampering_fail(store: LocalDirStore, provider: LocalKeyProvider,
                                               records: list[Record], trust: TrustStore) -> None:
    land_two(store, provider, records)
    landing.write_batch(store, provider, "aws", "digits", "b3", records[:1])
    dup = verify_landing(store, provider, "aws", "digits", trust)
    assert not dup.verified and dup.duplicates == 1
    missing = verify_landing(store, provider, "aws", "digits", trust, expected_ids={r.id for r in records[:11]})
    assert not missing.verified and "1 missing" in " ".join(missing.errors)
    key = landing.batch_key("aws", "digits", "b2")
    blob = bytearray(store.get(key))
    blob[-3] ^= 1
    store.put(key, bytes(blob))
    tampered = verify_landing(store, provider, "aws", "digits", trust)
    assert not tampered.verified and any("DecryptionFailed" in e for e in tampered.errors)


def test_wrong_dead_letter_count_fails(store: LocalDirStore, provider: LocalKeyProvider,
                                      records: list[Record], trust: TrustStore) -> None:
    land_two(store, provider, records)
    assert not verify_landing(store, provider, "aws", "digits", trust, expected_dead_letters=3).verified
