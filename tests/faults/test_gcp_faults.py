"""GCP silo under faults: Cloud KMS unreachable while the consumer lands.

Consumer crash/restart mid-stream is covered in tests/ingestion/gcp/test_pubsub_ingest.py.
Emulator restart during production is NOT shown for GCP, on purpose: the Pub/Sub
emulator keeps topics, subscriptions and the backlog in memory, so a restarted
emulator has lost everything, which a real Pub/Sub (durable, replicated) never
does; a test of "the producer resumes" against it could only show that the topic
is gone. docs/what_we_test.md says so.
"""
from __future__ import annotations

import time
import uuid

import pytest

from encryption.errors import KeyServiceError
from encryption.providers import gcp_kms
from encryption.providers.gcp_kms import GcpKmsProvider
from ingestion.gcp.clients import GcpNames
from ingestion.gcp.pipeline import GcpSilo, verify_silo
from ingestion.gcp.producer import publish_lines
from ingestion.records import TrustStore
from ingestion.samples import default_producer, generate_records
from lab.config import settings
from lab.localcloud import local_cloud
from lab.localcloud.gcp import KMS_ENDPOINT_VAR
from tests.faults.outage import Outage
from tests.faults.tally import count


@pytest.fixture(scope="module")
def silo():  # type: ignore[no-untyped-def]
    with local_cloud("gcp") as cloud:
        cfg = settings()
        connected = GcpSilo.connect(GcpNames(project=cfg.gcp_project, location=cfg.gcp_location,
                                             prefix=f"f{uuid.uuid4().hex[:10]}"))
        connected.provision()
        yield connected, cloud.env[KMS_ENDPOINT_VAR]


@pytest.mark.slow  # the gRPC client retries an unreachable KMS for ~40 s before giving up
def test_kms_unreachable_during_landing_keeps_messages_on_the_subscription(silo, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    silo, kms_endpoint = silo
    monkeypatch.setattr(gcp_kms, "CALL_TIMEOUT_S", 3.0)  # give up on the unreachable KMS sooner than 30 s
    records = generate_records("gcp", 90, seed=41)
    trust = TrustStore.from_dir()  # after generating: the sample producer's key is now trusted
    publish_lines(silo.publisher, silo.names.topic, [r.to_json().encode() for r in records], default_producer("gcp"))
    path = Outage(int(kms_endpoint.rsplit(":", 1)[1]))
    try:
        kms = GcpKmsProvider(silo.names.crypto_key, client=gcp_kms.kms_client(endpoint=path.url))
        path.cut()
        consumer = silo.consumer(kms, trust)
        with pytest.raises(KeyServiceError) as failed:
            consumer.run(expected=len(records))
        assert "Cloud KMS" in str(failed.value) and records[0].id not in str(failed.value)
        assert not consumer.checkpoint.accepted_ids  # nothing committed, nothing acknowledged
        path.restore()
        started = time.monotonic()
        resumed = silo.consumer(silo.provider(), trust).run(expected=len(records), idle_timeout_s=15)
        redelivery_s = time.monotonic() - started
    finally:
        path.close()
    verified = verify_silo(silo, silo.provider(), trust, silo.consumer(silo.provider(), trust), "digits")
    assert verified.verified, verified.errors
    assert verified.ids == {r.id for r in records} and resumed.duplicates == 0
    assert redelivery_s < 8, "the failed batch was not handed back (nack): it waited for the ack deadline"
    count("gcp: Cloud KMS unreachable during landing", faults=1, records_in=len(records),
          landed=verified.records, dead_lettered=0, lost=len(records) - verified.records, duplicates_landed=0)
