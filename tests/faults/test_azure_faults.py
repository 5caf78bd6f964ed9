"""Azure silo under faults: the Event Hubs emulator restarts while the producer sends, and Key Vault
is unreachable when the consumer lands.

The project's Event Hubs emulator keeps its partition logs on disk, so here the
restart is a real one (process killed, started again on the same port,
tests/faults/restart.py) and the question is the real one: does the producer
reconnect and resume, and is every event still there afterwards? Consumer
restart mid-stream is covered in tests/ingestion/azure/test_ingest.py.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from encryption.providers.azure_keyvault import AzureKeyVaultProvider
from ingestion import samples
from ingestion.azure.consumer import EventHubConsumer
from ingestion.azure.clients import credential
from ingestion.azure.ingest import Silo, reset
from ingestion.azure.producer import EventHubProducer
from ingestion.azure.provision import provision
from ingestion.core.landing import batch_prefix
from ingestion.core.pipeline import BatchLander
from ingestion.core.verify import verify_landing
from ingestion.records import TrustStore
from lab.cli import LabError
from lab.localcloud import LocalCloud, local_cloud
from tests.faults.outage import Outage
from tests.faults.restart import kill, start_again
from tests.faults.tally import count


@pytest.fixture(scope="module")
def azure_cloud() -> Iterator[LocalCloud]:
    with local_cloud("azure") as cloud:
        yield cloud


@pytest.fixture
def silo(azure_cloud: LocalCloud) -> Silo:
    connected = Silo.connect(provision())
    reset(connected, "digits")
    return connected


def check_landing(silo: Silo, trust: TrustStore, ids: set[str]) -> int:
    lander = silo.lander("digits", trust)
    result = verify_landing(silo.store, silo.provider, "azure", "digits", trust, expected_ids=ids,
                            expected_dead_letters=lander.checkpoint.dead_lettered)
    assert result.verified, result.errors
    assert result.ids == ids and result.duplicates == 0
    return result.records


def test_producer_resumes_after_the_event_hubs_emulator_restarts(silo: Silo) -> None:
    records = samples.generate_records("azure", 120, seed=31)
    lines = [r.to_json().encode() for r in records]
    restarted: list[object] = []
    with silo.producer_client() as client:
        producer = EventHubProducer(client, max_attempts=8, base_delay_s=0.3)
        for i in range(0, len(lines), 20):
            if i == 40:  # mid-production: the broker process dies and comes back on its port
                state = kill("eventhubs")
                threading.Timer(0.5, lambda: restarted.append(start_again(state))).start()
            producer.put_all(lines[i:i + 20])
    assert restarted, "the emulator was not restarted"
    trust = TrustStore.from_dir()
    consumed = EventHubConsumer(silo.consumer_client, silo.lander("digits", trust), batch_size=50).run()
    landed = check_landing(silo, trust, {r.id for r in records})
    assert landed == len(records)
    assert consumed.read - consumed.duplicates == len(records)  # a resent batch is dropped as duplicates
    count("azure: Event Hubs emulator restart during production", faults=1, records_in=len(records),
          landed=landed, dead_lettered=consumed.dead_lettered - consumed.duplicates,
          lost=len(records) - landed, duplicates_landed=0)


@pytest.mark.slow  # the SDK retries a refused vault with backoff for ~30 s before giving up
def test_key_vault_unreachable_during_landing_keeps_events_in_the_hub(silo: Silo) -> None:
    records = samples.generate_records("azure", 80, seed=32)
    with silo.producer_client() as client:
        EventHubProducer(client).put_all([r.to_json().encode() for r in records])
    vault_port = int(silo.resources.endpoints.vault_url.rstrip("/").rsplit(":", 1)[1])
    path = Outage(vault_port)
    try:
        path.cut()
        ep = silo.resources.endpoints
        vault = AzureKeyVaultProvider(f"https://{path.url}", silo.resources.key_name, credential=credential(),
                                      connection_verify=ep.verify())
        trust = TrustStore.from_dir()
        lander = BatchLander(silo.store, vault, "azure", "digits", trust, silo.checkpoints())
        with pytest.raises(LabError, match="KeyServiceError") as failed:
            EventHubConsumer(silo.consumer_client, lander, batch_size=20, stall_timeout_s=5).run()
        assert records[0].id not in str(failed.value)
        assert silo.lander("digits", trust).checkpoint.batches == 0  # nothing checkpointed ...
        assert not list(silo.store.list(batch_prefix("azure", "digits")))  # ... nothing landed
        path.restore()
        consumed = EventHubConsumer(silo.consumer_client, lander, batch_size=20).run()
    finally:
        path.close()
    landed = check_landing(silo, trust, {r.id for r in records})
    assert landed == consumed.landed == len(records)
    count("azure: Key Vault unreachable during landing", faults=1, records_in=len(records), landed=landed,
          dead_lettered=0, lost=len(records) - landed, duplicates_landed=0)
