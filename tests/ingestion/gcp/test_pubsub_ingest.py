"""End to end against the emulators with the real SDKs: land, restart, dead letters, rotation."""
from __future__ import annotations

import pytest

from encryption.cache import CachingKeyProvider
from encryption.envelope import read_header
from encryption.errors import EnvelopeError
from ingestion.core.landing import batch_id_of, batch_prefix, context, read_batch
from ingestion.core.verify import verify_landing
from ingestion.gcp.consumer import SimulatedCrash
from ingestion.gcp.ingest import bigquery_ids, ingest, source_lines, verify_silo
from ingestion.gcp.producer import publish_lines
from ingestion.records import TrustStore
from ingestion.samples import default_producer, generate_records

pytestmark = pytest.mark.emulator


def test_round_trip_lands_every_record_once_and_dead_letters_bad_ones(names):
    lines = source_lines(120, None, invalid=10)
    summary = ingest(lines, progress=False, names=names).to_dict()
    assert summary["sent"] == 130
    assert summary["landed"] == 120
    # every silo counts a resent duplicate as dead-lettered: sent == landed + dead_lettered
    assert summary["dead_lettered"] == 10 and summary["duplicates"] == 1
    assert summary["verified"] is True
    assert summary["kms_calls"] >= 2
    from ingestion.gcp.ingest import GcpSilo

    silo = GcpSilo.connect(names)
    ids = bigquery_ids(silo.bq, names.bq_table)
    assert len(ids) == len(set(ids)) == 120
    store = silo.store()
    keys = list(store.list(batch_prefix("gcp", "digits")))
    assert keys and all(b"gcp-digits-" not in store.get(k) for k in keys)  # sealed, not plaintext
    kept = summary["provisioned"]
    assert kept["gcs bucket default_kms_key_name"].startswith("kept")
    assert kept["bigquery table encryption_configuration"].startswith("NOT kept")  # the emulator drops CMEK


@pytest.mark.slow  # waits one ack deadline (10 s) for redelivery
def test_restart_mid_stream_neither_loses_nor_duplicates(silo):
    records = generate_records("gcp", 250, seed=3)
    trust = TrustStore.from_dir()  # after the generator made the producer key: the test also passes alone
    publish_lines(silo.publisher, silo.names.topic, [r.to_json().encode() for r in records], default_producer("gcp"))

    first = silo.consumer(CachingKeyProvider(silo.provider()), trust)
    first.max_messages = 100
    seen: list[str] = []

    def crash_on_second(batch_id: str) -> None:
        seen.append(batch_id)
        if len(seen) == 2:
            raise SimulatedCrash(batch_id)

    first.before_commit = crash_on_second
    with pytest.raises(SimulatedCrash):
        first.run(expected=250)
    # the second batch reached GCS and BigQuery but was never committed nor acked
    assert len(bigquery_ids(silo.bq, silo.names.bq_table)) > len(first.checkpoint.accepted_ids)

    second = silo.consumer(CachingKeyProvider(silo.provider()), trust)
    result = second.run(expected=250 - len(first.checkpoint.accepted_ids), idle_timeout_s=20)
    assert len(result.rolled_back) == 1  # the uncommitted batch was removed
    assert result.duplicates == 0
    verified = verify_silo(silo, silo.provider(), trust, second, "digits")
    assert verified.verified, verified.errors
    assert verified.ids == {r.id for r in records}
    assert sorted(bigquery_ids(silo.bq, silo.names.bq_table)) == sorted(r.id for r in records)


def test_rotation_keeps_old_batches_readable_and_context_is_bound(silo):
    trust = TrustStore.from_dir()
    store = silo.store()
    batch1 = generate_records("gcp", 40, seed=5)
    publish_lines(silo.publisher, silo.names.topic, [r.to_json().encode() for r in batch1], default_producer("gcp"))
    silo.consumer(silo.provider(), trust).run(expected=40)

    key = silo.names.crypto_key
    new = silo.kms.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}})
    silo.kms.update_crypto_key_primary_version(request={"name": key, "crypto_key_version_id": new.name.rsplit("/", 1)[-1]})

    batch2 = generate_records("gcp", 80, seed=5)[40:]
    publish_lines(silo.publisher, silo.names.topic, [r.to_json().encode() for r in batch2], default_producer("gcp"))
    consumer = silo.consumer(silo.provider(), trust)
    consumer.run(expected=40)

    keys = list(store.list(batch_prefix("gcp", "digits")))
    versions = {read_header(store.get(k)).key_id for k in keys}
    assert versions == {f"{key}/cryptoKeyVersions/1", new.name}
    result = verify_landing(store, silo.provider(), "gcp", "digits", trust, expected_ids=consumer.checkpoint.accepted_ids)
    assert result.verified, result.errors
    assert result.records == 80

    # a batch's bytes do not open as another batch (full context bound by AES-GCM / Cloud KMS AAD)
    k1, k2 = keys[0], keys[1]
    with pytest.raises(EnvelopeError):
        from encryption.envelope import decrypt

        decrypt(store.get(k1), silo.provider(), context("gcp", "digits", batch_id_of(k2)))
    with pytest.raises(EnvelopeError):
        from encryption.envelope import decrypt

        decrypt(store.get(k1), silo.provider(), {"silo": "gcp", "dataset": "other", "batch": "x"})
    assert read_batch(store, silo.provider(), k1, "gcp", "digits", trust)


def test_untrusted_producer_is_dead_lettered_not_landed(silo):
    records = generate_records("gcp", 5, seed=9, producer="gcp-producer-rogue")
    trust = TrustStore.from_dir()
    trust.revoke("gcp-producer-rogue")
    publish_lines(silo.publisher, silo.names.topic, [r.to_json().encode() for r in records], "gcp-producer-rogue")
    result = silo.consumer(silo.provider(), trust).run(expected=5)
    assert result.landed == 0 and result.dead_lettered == 5
    assert bigquery_ids(silo.bq, silo.names.bq_table) == []


def test_reset_starts_from_an_empty_landing_and_keep_counts_duplicates(names):
    from ingestion.gcp.ingest import run_ingest

    lines = [r.to_json().encode() for r in generate_records("gcp", 30, seed=9)]
    first, _ = run_ingest(lines, do_reset=True, show_progress=False, names=names)
    kept, _ = run_ingest(lines, do_reset=False, show_progress=False, names=names)
    again, result = run_ingest(lines, do_reset=True, show_progress=False, names=names)
    assert (first.landed, kept.landed, kept.duplicates) == (30, 0, 30)
    assert again.verified and again.landed == 30 and result.records == 30  # the reset emptied GCS and BigQuery
