"""The AWS silo behind the shared contract: ``Adapter`` (provision, reset, produce, consume, verify).

``ingestion.core.run.run_ingest(Adapter(), lines)`` is the run end to end; ``kinesis_ingest.py``
is its thin command line. Envelope encryption goes through
``CachingKeyProvider(AwsKmsProvider(alias))``: one KMS data key serves many
batches within the cache limits, and ``kms_calls`` counts every KMS request the
run made (producing, landing and verifying).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from encryption.cache import CachingKeyProvider
from encryption.providers.aws_kms import AwsKmsProvider
from ingestion.aws.clients import client
from ingestion.aws.consumer import KinesisConsumer
from ingestion.aws.producer import KinesisProducer, ProduceStats
from ingestion.aws.provision import AwsResources, ensure_stream, provision
from ingestion.aws.store import S3Store
from ingestion.core.checkpoint import CheckpointStore, checkpoint_key
from ingestion.core.landing import batch_prefix, deadletter_prefix
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.plain import PlainLander
from ingestion.core import run as core_run
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult
from ingestion.records import TrustStore

SILO = "aws"


@dataclass
class Silo:
    """The clients and stores of one run, built from provisioned resources."""

    resources: AwsResources
    kinesis: Any
    store: S3Store
    kms: AwsKmsProvider
    provider: CachingKeyProvider
    reader: Any  # the consumer's Kinesis client: timestamps left unparsed (it never reads them)
    secure: bool = True

    @classmethod
    def connect(cls, resources: AwsResources, secure: bool = True) -> Silo:
        """``secure=False``: the benchmark's plain baseline — its own stream and bucket, no SSE."""
        kms = AwsKmsProvider(resources.key_alias)
        if not secure:
            resources = replace(resources, stream_name=f"{resources.stream_name}-plain",
                                bucket=f"{resources.bucket}-plain")
        return cls(resources, client("kinesis"), S3Store(resources.bucket, resources.key_arn if secure else None),
                   kms, CachingKeyProvider(kms), client("kinesis", raw_timestamps=True), secure)

    def checkpoints(self) -> CheckpointStore:
        return CheckpointStore(self.store, checkpoint_key(SILO, self.resources.stream_name))

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        if not self.secure:
            return PlainLander(self.store, SILO, dataset, self.checkpoints())
        return BatchLander(self.store, self.provider, SILO, dataset, trust, self.checkpoints())


def ensure_plain(silo: Silo) -> None:
    """The plain baseline's stream (no SSE) and bucket (no default encryption)."""
    ensure_stream(silo.kinesis, silo.resources.stream_name, None)
    try:
        silo.store.s3.create_bucket(Bucket=silo.resources.bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


def reset(silo: Silo, dataset: str) -> None:
    """Start clean: empty the stream (delete + re-create) and remove landed objects and checkpoints."""
    name = silo.resources.stream_name
    try:
        silo.kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        silo.kinesis.get_waiter("stream_not_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    ensure_stream(silo.kinesis, name, silo.resources.key_arn if silo.secure else None)
    for prefix in (batch_prefix(SILO, dataset), deadletter_prefix(SILO), f"checkpoints/silo={SILO}/"):
        silo.store.delete_prefix(prefix)


class Adapter(core_run.AdapterBase):
    """The AWS silo behind the shared contract (``ingestion.core.run.SiloAdapter``)."""

    silo = SILO
    default_batch_size = 500
    max_batch_size = 10_000  # the GetRecords limit

    def __init__(self, with_vpc: bool = True, secure: bool = True) -> None:
        """``secure=False``: every control off (ingestion.core.plain), for the benchmark only."""
        self.with_vpc = with_vpc
        self.secure = secure
        self._silo: Silo | None = None
        self._produced = ProduceStats()

    def provision(self) -> None:
        self._silo = Silo.connect(provision(with_vpc=self.with_vpc), self.secure)
        if not self.secure:
            ensure_plain(self._silo)

    def kms_calls(self) -> int:
        return self.connected.kms.calls

    def reset(self, dataset: str) -> None:
        reset(self.connected, dataset)

    def produce(self, lines: Sequence[bytes], progress: Callable[[int], None]) -> ProduceStats:
        silo = self.connected
        self._produced = KinesisProducer(silo.kinesis, silo.resources.stream_name).put_all(lines, progress)
        return self._produced

    def consume(self, lander: BatchLander, batch_size: int, progress: Callable[[int], None],
                follow: Callable[[], bool], sent: Callable[[], int | None], ready: threading.Event) -> ConsumeStats:
        ready.set()  # shard iterators are cheap: nothing to wait for
        silo = self.connected
        return KinesisConsumer(silo.reader, silo.resources.stream_name, lander, batch_size).run(
            progress=progress, follow=follow)

    def describe(self) -> dict[str, Any]:
        res = self.connected.resources
        return {"put_records_calls": self._produced.calls, "retried_entries": self._produced.retried_entries,
                "split_calls": self._produced.split_calls, "stream": res.stream_name, "bucket": res.bucket,
                "kms_key": res.key_alias}

    def key_state(self) -> dict[str, Any]:
        from encryption.rotation import rotation_status

        from ingestion.aws.provision import KEY_ROTATION_DAYS

        res = self.connected.resources
        status = rotation_status(client("kms"), res.key_arn)
        if status["period_days"] is None:  # moto 5.2.5 stores rotation on/off but no period (fidelity table)
            status["period_days_requested"] = KEY_ROTATION_DAYS
        return {"service": "AWS KMS", "key": res.key_arn, **status}


def run_ingest(
    lines: Sequence[bytes],
    dataset: str = "digits",
    do_reset: bool = False,
    with_vpc: bool = True,
    batch_limit: int = 500,
    show_progress: bool = True,
    trust: TrustStore | None = None,
) -> tuple[IngestSummary, VerifyResult]:
    """The shared run (``ingestion.core.run.run_ingest``) on the AWS silo; kept for callers."""
    return core_run.run_ingest(Adapter(with_vpc), lines, dataset=dataset, do_reset=do_reset,
                               batch_size=batch_limit, show_progress=show_progress, trust=trust)
