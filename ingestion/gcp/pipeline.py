"""The GCP silo's ingestion step end to end: provision, publish, consume, verify.

Verification re-reads every landed GCS batch (decrypt with Cloud KMS, re-check
every signature, count, no duplicate ids) through ingestion.core.verify, and
cross-checks BigQuery: exactly the same record ids, once each.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from encryption.cache import CachingKeyProvider
from encryption.providers.gcp_kms import GcpKmsProvider, kms_client
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult, verify_landing
from ingestion.gcp import clients
from ingestion.gcp.consumer import BQ_DEADLINE_S, BQ_RETRY, PubSubConsumer
from ingestion.gcp.gcs_store import GcsStore
from ingestion.gcp.producer import publish_lines
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

    def consumer(self, provider: Any, trust: TrustStore, dataset: str = "digits") -> PubSubConsumer:
        return PubSubConsumer(
            self.subscriber, self.names.subscription, self.store(), provider, self.bq, self.names.bq_table,
            trust, silo=SILO, dataset=dataset,
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


def ingest(
    lines: Sequence[bytes], dataset: str = "digits", progress: bool = True, names: clients.GcpNames | None = None,
    cpu: AbstractContextManager[object] | None = None, trust: TrustStore | None = None,
) -> IngestSummary:
    """Provision, publish ``lines``, consume them into GCS + BigQuery, and verify. Needs clients reachable.

    ``cpu``: a context manager around the publish + consume step alone (the benchmark's CpuMeter)."""
    summary = IngestSummary(silo=SILO, dataset=dataset)
    silo = GcpSilo.connect(names)
    with summary.timed("provision"):
        summary.extra["provisioned"] = silo.provision()
    trust = trust or TrustStore.from_dir()
    kms = silo.provider()
    provider = CachingKeyProvider(kms)
    consumer = silo.consumer(provider, trust, dataset)
    # Publisher and consumer side by side, as deployed (and as the AWS silo runs): the consumer
    # lands what has arrived while the publisher is still sending. Timed from the first publish
    # until the last record has landed.
    with cpu or nullcontext(), summary.timed("publish_consume"), tqdm(total=len(lines), desc="land", unit="rec",
                                                disable=not progress) as bar, ThreadPoolExecutor(1) as pool:
        publishing = pool.submit(publish_lines, silo.publisher, silo.names.topic, lines, default_producer(SILO))
        result = consumer.run(expected=lambda: publishing.result().sent if publishing.done() else None,
                              progress=bar, follow=lambda: not publishing.done())
        published = publishing.result()  # re-raises a publish failure: nothing reported sent unless accepted
        consumer.lander.reject(published.rejected)
    summary.extra["kms_calls_ingest"] = kms.calls
    with summary.timed("verify"):
        reader = silo.provider()  # uncached on purpose: every landed object is unwrapped by Cloud KMS
        verified = verify_silo(silo, reader, trust, consumer, dataset)
    summary.record_run(published.sent, result, verified, kms_calls=kms.calls + reader.calls,
                       rejected=len(published.rejected), lines=len(lines))
    if result.received > published.sent:
        verified.errors.append(f"received {result.received} messages but {published.sent} were published")
        summary.verified = False
    summary.extra.update({"verify": verified.as_dict(), "rolled_back": result.rolled_back,
                          "resent": published.resent})
    return summary
