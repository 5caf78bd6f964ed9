"""The GCP silo behind the shared contract: ``Adapter`` (provision, reset, produce, consume, verify).

``ingestion.core.run.run_ingest(Adapter(), lines)`` is the run end to end; ``pubsub_ingest.py``
is its thin command line.

Verification re-reads every landed GCS batch (decrypt with Cloud KMS, re-check
every signature, count, no duplicate ids) through ingestion.core.verify, and
cross-checks BigQuery: exactly the same record ids, once each.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from encryption.cache import CachingKeyProvider
from encryption.providers.gcp_kms import GcpKmsProvider, kms_client
from ingestion.core import run as core_run
from ingestion.core.landing import batch_prefix, deadletter_prefix
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult, verify_landing
from ingestion.gcp import clients
from ingestion.gcp.consumer import BQ_DEADLINE_S, BQ_RETRY, PubSubConsumer
from ingestion.gcp.store import GcsStore
from ingestion.gcp.producer import PublishStats, publish_lines
from ingestion.gcp.provision import provision_all
from ingestion.records import TrustStore
from ingestion.samples import default_producer, generate_records, invalid_examples, mixed_lines, read_jsonl
from lab.cli import LabError

SILO = "gcp"


@dataclass
class GcpSilo:
    """The clients and names of one run (built inside ``local_cloud('gcp')`` or against real GCP)."""

    names: clients.GcpNames
    kms: Any
    publisher: Any
    subscriber: Any
    bq: Any
    storage: Any

    @classmethod
    def connect(cls, names: clients.GcpNames | None = None) -> GcpSilo:
        return cls(
            names=names or clients.GcpNames.from_settings(),
            kms=kms_client(),
            publisher=clients.publisher(),
            subscriber=clients.subscriber(),
            bq=clients.bigquery_client(),
            storage=clients.storage_client(),
        )

    def provision(self) -> dict[str, str]:
        """Create the resources; return 'resource setting' -> 'kept|NOT kept: note' (read back from each service)."""
        findings = provision_all(self.kms, self.publisher, self.subscriber, self.bq, self.storage, self.names)
        return {f"{f.resource} {f.setting}": f"{'kept' if f.kept else 'NOT kept'}: {f.note}" for f in findings}

    def store(self) -> GcsStore:
        return GcsStore(self.storage, self.names.bucket)

    def provider(self) -> GcpKmsProvider:
        return GcpKmsProvider(self.names.crypto_key, client=self.kms)

    def consumer(self, provider: Any, trust: TrustStore, dataset: str = "digits", secure: bool = True) -> PubSubConsumer:
        return PubSubConsumer(
            self.subscriber, self.names.subscription, self.store(), provider, self.bq, self.names.bq_table,
            trust, silo=SILO, dataset=dataset, secure=secure,
        )


def source_lines(records: int, source: Path | None, invalid: int = 0, seed: int = 0) -> list[bytes]:
    """The lines to publish: a JSONL file (as given) or freshly generated signed samples."""
    if source is not None:
        if not source.is_file():
            raise LabError(f"--source {source}: no such file (make one with `python data/generate.py --silo gcp`)")
        lines = read_jsonl(source)[:records]
        if not lines:
            raise LabError(f"--source {source}: no records in the file")
        return lines
    valid = generate_records(SILO, records, seed=seed)
    bad = invalid_examples(valid, invalid, seed=seed) if invalid else []
    return mixed_lines(valid, bad, seed=seed)


def bigquery_ids(bq: Any, table: str) -> list[str]:
    """Every record id in the silo's BigQuery table (one entry per row)."""
    sql = f"SELECT id FROM `{table}` WHERE silo = 'gcp'"  # nosec B608 - table is our validated config, no user input
    job = bq.query(sql, retry=BQ_RETRY, timeout=BQ_DEADLINE_S)
    return [str(row["id"]) for row in job.result(timeout=BQ_DEADLINE_S)]


def verify_silo(silo: GcpSilo, provider: Any, trust: TrustStore, consumer: PubSubConsumer, dataset: str) -> VerifyResult:
    """Re-read GCS through ingestion.core.verify, then cross-check BigQuery row by row."""
    cp = consumer.checkpoints.load()
    result = verify_landing(
        silo.store(), provider, SILO, dataset, trust,
        expected_ids=cp.accepted_ids, expected_dead_letters=cp.dead_lettered,
    )
    ids = bigquery_ids(silo.bq, silo.names.bq_table)
    if len(ids) != len(set(ids)):
        result.errors.append(f"BigQuery holds {len(ids) - len(set(ids))} duplicate row(s)")
    if set(ids) != result.ids:
        result.errors.append(
            f"BigQuery ids differ from GCS batches: {len(result.ids - set(ids))} missing, {len(set(ids) - result.ids)} extra"
        )
    return result


class Adapter:
    """The GCP silo behind the shared contract (``ingestion.core.run.SiloAdapter``)."""

    silo = SILO
    default_batch_size = 500
    max_batch_size = 1000  # messages per pull

    def __init__(self, names: clients.GcpNames | None = None, secure: bool = True) -> None:
        """``secure=False``: every control off (ingestion.core.plain), for the benchmark only; it
        gets its own topic, subscription, bucket and table (``<prefix>-plain``)."""
        self.secure = secure
        if not secure:
            names = names or clients.GcpNames.from_settings()
            names = replace(names, prefix=f"{names.prefix}-plain")
        self.names = names
        self._silo: GcpSilo | None = None
        self._kms: GcpKmsProvider | None = None
        self._provider: CachingKeyProvider | None = None
        self._reader: GcpKmsProvider | None = None
        self._consumer: PubSubConsumer | None = None
        self._produced = PublishStats()
        self.provisioned: dict[str, str] = {}

    @property
    def connected(self) -> GcpSilo:
        if self._silo is None or self._provider is None:
            raise RuntimeError("provision() first")
        return self._silo

    def provision(self) -> None:
        self._silo = GcpSilo.connect(self.names)
        self.provisioned = self._silo.provision()
        self._kms = self._silo.provider()
        self._provider = CachingKeyProvider(self._kms)

    @property
    def store(self) -> GcsStore:
        return self.connected.store()

    @property
    def provider(self) -> CachingKeyProvider:
        self.connected  # noqa: B018 - raises before provision()
        assert self._provider is not None
        return self._provider

    def kms_calls(self) -> int:
        return sum(p.calls for p in (self._kms, self._reader) if p is not None)

    def reset(self, dataset: str) -> None:
        """Empty the landing (GCS objects, checkpoint, BigQuery rows) and drop the subscription's backlog."""
        silo = self.connected
        for prefix in (batch_prefix(SILO, dataset), deadletter_prefix(SILO), f"checkpoints/silo={SILO}/"):
            self.store.delete_prefix(prefix)
        silo.bq.query(f"DELETE FROM `{silo.names.bq_table}` WHERE silo = 'gcp'",  # nosec B608 - our config
                      retry=BQ_RETRY, timeout=BQ_DEADLINE_S).result(timeout=BQ_DEADLINE_S)
        silo.subscriber.delete_subscription(request={"subscription": silo.names.subscription}, timeout=30)
        silo.provision()  # re-creates the subscription, empty

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        self._consumer = self.connected.consumer(self.provider, trust, dataset, self.secure)
        return self._consumer.lander

    def produce(self, lines: Sequence[bytes], progress: Callable[[int], None]) -> PublishStats:
        silo = self.connected
        self._produced = publish_lines(silo.publisher, silo.names.topic, lines, default_producer(SILO))
        progress(len(lines))
        return self._produced

    def consume(self, lander: BatchLander, batch_size: int, progress: Callable[[int], None],
                follow: Callable[[], bool], sent: Callable[[], int | None], ready: threading.Event) -> ConsumeStats:
        ready.set()  # unary pulls: nothing to attach
        if self._consumer is None or self._consumer.lander is not lander:
            raise RuntimeError("consume() takes the lander this adapter made")
        self._consumer.max_messages = batch_size
        return self._consumer.run(expected=sent, progress=progress, follow=follow)

    def verify(self, lander: BatchLander, dataset: str, trust: TrustStore) -> VerifyResult:
        """GCS through ingestion.core.verify (uncached on purpose: one Cloud KMS unwrap per object),
        then BigQuery row by row."""
        self._reader = self.connected.provider()
        assert self._consumer is not None
        return verify_silo(self.connected, self._reader, trust, self._consumer, dataset)

    def describe(self) -> dict[str, Any]:
        return {"resent": self._produced.resent, "topic": self.connected.names.topic,
                "bucket": self.connected.names.bucket, "bq_table": self.connected.names.bq_table,
                "provisioned": self.provisioned}

    def key_state(self) -> dict[str, Any]:
        silo = self.connected
        key = silo.kms.get_crypto_key(name=silo.names.crypto_key)
        return {"service": "Cloud KMS", "key": key.name, "primary": key.primary.name,
                "rotation_period_s": int(key.rotation_period.total_seconds()) if key.rotation_period else None}


def run_ingest(
    lines: Sequence[bytes], dataset: str = "digits", do_reset: bool = False, batch_size: int = 500,
    show_progress: bool = True, trust: TrustStore | None = None, names: clients.GcpNames | None = None,
    cpu: AbstractContextManager[object] | None = None,
) -> tuple[IngestSummary, VerifyResult]:
    """The shared run (``ingestion.core.run.run_ingest``) on the GCP silo."""
    return core_run.run_ingest(Adapter(names), lines, dataset=dataset, do_reset=do_reset, batch_size=batch_size,
                               show_progress=show_progress, trust=trust, cpu=cpu)


def ingest(
    lines: Sequence[bytes], dataset: str = "digits", progress: bool = True, names: clients.GcpNames | None = None,
    cpu: AbstractContextManager[object] | None = None, trust: TrustStore | None = None,
) -> IngestSummary:
    """:func:`run_ingest` returning the summary alone, without a reset (kept for callers)."""
    return run_ingest(lines, dataset=dataset, show_progress=progress, trust=trust, names=names, cpu=cpu)[0]
