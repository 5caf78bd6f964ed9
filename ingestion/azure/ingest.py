"""The Azure silo behind the shared contract: ``Adapter`` (provision, reset, produce, consume, verify).

``ingestion.core.run.run_ingest(Adapter(), lines)`` is the run end to end; ``eventhub_ingest.py``
is its thin command line. Envelope encryption goes through
``CachingKeyProvider(AzureKeyVaultProvider(vault, key))``; ``kms_calls`` counts
every Key Vault request the provider made (key lookups and unwraps; wraps use
the public key locally).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from encryption.cache import CachingKeyProvider
from encryption.providers.azure_keyvault import AzureKeyVaultProvider
from ingestion.azure.store import BlobStore
from ingestion.azure.consumer import DEFAULT_BATCH_SIZE, EventHubConsumer
from ingestion.azure.clients import credential
from ingestion.azure.producer import EventHubProducer, ProduceStats
from ingestion.azure.provision import ROTATE_AFTER, AzureResources, consumer_client, producer_client, provision
from ingestion.core.checkpoint import Checkpoint, CheckpointStore, checkpoint_key
from ingestion.core.landing import batch_prefix, deadletter_prefix
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.plain import PlainLander
from ingestion.core import run as core_run
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult
from ingestion.records import TrustStore

SILO = "azure"


@dataclass
class Silo:
    """The clients and stores of one run, built from provisioned resources."""

    resources: AzureResources
    store: BlobStore
    keyvault: AzureKeyVaultProvider
    provider: CachingKeyProvider
    secure: bool = True

    @classmethod
    def connect(cls, resources: AzureResources, credential_override: Any = None, secure: bool = True) -> Silo:
        """``secure=False``: the benchmark's plain baseline (ingestion.core.plain), its own checkpoint."""
        ep = resources.endpoints
        cred = credential_override or credential()
        kv = AzureKeyVaultProvider(ep.vault_url, resources.key_name, credential=cred, connection_verify=ep.verify())
        store = BlobStore(ep.blob_url, resources.container, cred, ep.verify())
        return cls(resources, store, kv, CachingKeyProvider(kv), secure)

    def checkpoints(self) -> CheckpointStore:
        return CheckpointStore(self.store, checkpoint_key(SILO, self.resources.hub + ("" if self.secure else "-plain")))

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        if not self.secure:
            return PlainLander(self.store, SILO, dataset, self.checkpoints())
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


class Adapter(core_run.AdapterBase):
    """The Azure silo behind the shared contract (``ingestion.core.run.SiloAdapter``)."""

    silo = SILO
    default_batch_size = DEFAULT_BATCH_SIZE
    max_batch_size = 1000

    def __init__(self, credential_override: Any = None, secure: bool = True) -> None:
        """``secure=False``: every control off (ingestion.core.plain), for the benchmark only."""
        self.credential_override = credential_override
        self.secure = secure
        self._silo: Silo | None = None
        self._produced = ProduceStats()

    def provision(self) -> None:
        self._silo = Silo.connect(provision(), self.credential_override, self.secure)

    def kms_calls(self) -> int:
        return self.connected.keyvault.calls

    def reset(self, dataset: str) -> None:
        reset(self.connected, dataset)

    def produce(self, lines: Sequence[bytes], progress: Callable[[int], None]) -> ProduceStats:
        with self.connected.producer_client() as client:
            self._produced = EventHubProducer(client).put_all(lines, progress)
        return self._produced

    def consume(self, lander: BatchLander, batch_size: int, progress: Callable[[int], None],
                follow: Callable[[], bool], sent: Callable[[], int | None], ready: threading.Event) -> ConsumeStats:
        """Receivers attach before the first send: the SDK's receive loop busy-spins until its
        partition is claimed, which slowed a producer started alongside it about 3x."""
        consumer = EventHubConsumer(self.connected.consumer_client, lander, batch_size)
        threading.Thread(target=lambda: (consumer.ready.wait(), ready.set()), daemon=True).start()
        try:
            return consumer.run(progress=progress, follow=follow)
        finally:
            ready.set()

    def describe(self) -> dict[str, Any]:
        res = self.connected.resources
        return {"send_batches": self._produced.batches, "retried_batches": self._produced.retried_batches,
                "split_batches": self._produced.split_batches, "event_hub": res.hub,
                "partitions": len(res.partition_ids), "container": res.container,
                "key_id": self.connected.keyvault.current_key_id()}

    def key_state(self) -> dict[str, Any]:
        return {"service": "Azure Key Vault", "key": self.connected.keyvault.current_key_id(),
                "rotation_policy": f"rotate after {ROTATE_AFTER}"}


def run_ingest(
    lines: Sequence[bytes],
    dataset: str = "digits",
    do_reset: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = True,
    trust: TrustStore | None = None,
    cpu: AbstractContextManager[object] | None = None,
) -> tuple[IngestSummary, VerifyResult]:
    """The shared run (``ingestion.core.run.run_ingest``) on the Azure silo; kept for callers."""
    return core_run.run_ingest(Adapter(), lines, dataset=dataset, do_reset=do_reset, batch_size=batch_size,
                               show_progress=show_progress, trust=trust, cpu=cpu)


__all__ = ["SILO", "Adapter", "Silo", "reset", "run_ingest"]
