"""The Azure silo's ingestion run, end to end: provision, produce, consume, verify.

Importable (tests and the benchmark call it); ``eventhub_ingest.py`` is its thin
command line. Envelope encryption goes through
``CachingKeyProvider(AzureKeyVaultProvider(vault, key))``; ``kms_calls`` counts
every Key Vault request the provider made (key lookups and unwraps; wraps use
the public key locally).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from encryption.cache import CachingKeyProvider
from encryption.providers.azure_keyvault import AzureKeyVaultProvider
from ingestion.azure.blobstore import BlobStore
from ingestion.azure.consumer import DEFAULT_BATCH_SIZE, EventHubConsumer
from ingestion.azure.endpoints import credential
from ingestion.azure.producer import EventHubProducer, ProduceStats
from ingestion.azure.provision import AzureResources, consumer_client, producer_client, provision
from ingestion.core.checkpoint import Checkpoint, CheckpointStore, checkpoint_key
from ingestion.core.landing import batch_prefix, deadletter_prefix
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult, verify_landing
from ingestion.records import TrustStore
from lab.cli import LabError

SILO = "azure"
#: How long the producer waits for the consumer's receivers to attach before sending anyway
READY_TIMEOUT_S = 30.0


@dataclass
class Silo:
    """The clients and stores of one run, built from provisioned resources."""

    resources: AzureResources
    store: BlobStore
    keyvault: AzureKeyVaultProvider
    provider: CachingKeyProvider

    @classmethod
    def connect(cls, resources: AzureResources, credential_override: Any = None) -> Silo:
        ep = resources.endpoints
        cred = credential_override or credential()
        kv = AzureKeyVaultProvider(ep.vault_url, resources.key_name, credential=cred, connection_verify=ep.verify())
        store = BlobStore(ep.blob_url, resources.container, cred, ep.verify())
        return cls(resources, store, kv, CachingKeyProvider(kv))

    def checkpoints(self) -> CheckpointStore:
        return CheckpointStore(self.store, checkpoint_key(SILO, self.resources.hub))

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        return BatchLander(self.store, self.provider, SILO, dataset, trust, self.checkpoints())

    def producer_client(self) -> Any:
        return producer_client(self.resources.endpoints)

    def consumer_client(self) -> Any:
        return consumer_client(self.resources.endpoints)


def reset(silo: Silo, dataset: str) -> None:
    """Start clean: remove landed objects and checkpoints, and start reading at the hub's current end.

    Events cannot be deleted from an event hub (they age out with retention), so a
    reset moves the consumer's checkpoint past everything already in the hub.
    """
    for prefix in (batch_prefix(SILO, dataset), deadletter_prefix(SILO), f"checkpoints/silo={SILO}/"):
        silo.store.delete_prefix(prefix)
    with silo.consumer_client() as client:
        ends = EventHubConsumer(lambda: client, None).targets(client)  # type: ignore[arg-type]
    silo.checkpoints().save(Checkpoint(positions={pid: str(seq) for pid, seq in ends.items() if seq >= 0}))


def _bar(total: int, desc: str, show: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit="rec", disable=not show, leave=False)


def produce_and_consume(
    silo: Silo, lines: Sequence[bytes], lander: BatchLander, summary: IngestSummary, batch_size: int,
    show_progress: bool, max_batches: int | None, cpu: AbstractContextManager[object] | None = None,
) -> tuple[ProduceStats, ConsumeStats]:
    """Producer and consumer side by side (the consumer in a second thread), as on the other silos:
    the consumer lands what has arrived while the producer is still sending, then drains every
    partition up to what was sent.

    Timed as ``produce_consume``, from the first send until the last record has landed (``produce``:
    the send alone; ``cpu`` wraps the same block). Attaching the receivers and opening the producer's
    link come first, untimed — one-time setup, as the bare send's warm-up is."""
    sending = threading.Event()
    sending.set()
    consumer = EventHubConsumer(silo.consumer_client, lander, batch_size)
    with _bar(len(lines), "produce", show_progress) as pbar, _bar(len(lines), "consume", show_progress) as cbar, \
            ThreadPoolExecutor(1, "consumer") as pool, silo.producer_client() as client:
        consuming = pool.submit(consumer.run, max_batches=max_batches, progress=cbar.update, follow=sending.is_set)
        consumer.ready.wait(READY_TIMEOUT_S)
        with cpu or nullcontext(), summary.timed("produce_consume"):
            try:
                with summary.timed("produce"):
                    produced = EventHubProducer(client).put_all(lines, pbar.update)
            finally:
                sending.clear()  # the consumer now takes its targets, drains up to them and stops
            consumed = consuming.result()
            lander.reject(produced.rejected)
    return produced, consumed


def run_ingest(
    lines: Sequence[bytes],
    dataset: str = "digits",
    do_reset: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = True,
    trust: TrustStore | None = None,
    max_batches: int | None = None,
    cpu: AbstractContextManager[object] | None = None,
) -> tuple[IngestSummary, VerifyResult]:
    """Provision, send ``lines`` to the hub, consume and land them, then verify the landing.

    ``cpu``: a context manager around the produce + consume step alone (the benchmark's CpuMeter)."""
    if not lines and max_batches is None:
        raise LabError("nothing to send: the input had no records")
    summary = IngestSummary(silo=SILO, dataset=dataset)
    with summary.timed("provision"):
        resources = provision()
        silo = Silo.connect(resources)
        if do_reset:
            reset(silo, dataset)
    trust = trust or TrustStore.from_dir()
    lander = silo.lander(dataset, trust)
    produced, consumed = produce_and_consume(silo, lines, lander, summary, batch_size, show_progress, max_batches, cpu)
    calls_ingest = silo.keyvault.calls
    with summary.timed("verify"):
        result = verify_landing(
            silo.store, silo.provider, SILO, dataset, trust,
            expected_ids=lander.checkpoint.accepted_ids, expected_dead_letters=lander.checkpoint.dead_lettered,
        )
    summary.record_run(produced.sent, consumed, result, kms_calls=silo.keyvault.calls,
                       rejected=len(produced.rejected), lines=len(lines), partial=max_batches is not None)
    summary.extra.update({
        "send_batches": produced.batches,
        "retried_batches": produced.retried_batches,
        "split_batches": produced.split_batches,
        "kms_calls_ingest": calls_ingest,
        "total_landed_records": result.records,
        "total_landed_batches": result.batches,
        "event_hub": resources.hub,
        "partitions": len(resources.partition_ids),
        "container": resources.container,
        "key_id": silo.keyvault.current_key_id(),
    })
    return summary, result


__all__ = ["SILO", "Silo", "reset", "run_ingest"]
