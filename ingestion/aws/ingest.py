"""The AWS silo's ingestion run, end to end: provision, produce, consume, verify.

Importable (tests and the benchmark call it); ``kinesis_ingest.py`` is its thin
command line. Envelope encryption goes through
``CachingKeyProvider(AwsKmsProvider(alias))``: one KMS data key serves many
batches within the cache limits, and ``kms_calls`` counts every KMS request the
run made (producing, landing and verifying).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from tqdm import tqdm

from encryption.cache import CachingKeyProvider
from encryption.providers.aws_kms import AwsKmsProvider
from ingestion.aws.clients import client
from ingestion.aws.consumer import KinesisConsumer
from ingestion.aws.producer import KinesisProducer, ProduceStats
from ingestion.aws.provision import AwsResources, ensure_stream, provision
from ingestion.aws.s3store import S3Store
from ingestion.core.checkpoint import CheckpointStore, checkpoint_key
from ingestion.core.landing import batch_prefix, deadletter_prefix
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult, verify_landing
from ingestion.records import TrustStore
from lab.cli import LabError

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

    @classmethod
    def connect(cls, resources: AwsResources) -> Silo:
        kms = AwsKmsProvider(resources.key_alias)
        return cls(resources, client("kinesis"), S3Store(resources.bucket, resources.key_arn), kms,
                   CachingKeyProvider(kms), client("kinesis", raw_timestamps=True))

    def checkpoints(self) -> CheckpointStore:
        return CheckpointStore(self.store, checkpoint_key(SILO, self.resources.stream_name))

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        return BatchLander(self.store, self.provider, SILO, dataset, trust, self.checkpoints())


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
    ensure_stream(silo.kinesis, name, silo.resources.key_arn)
    for prefix in (batch_prefix(SILO, dataset), deadletter_prefix(SILO), f"checkpoints/silo={SILO}/"):
        silo.store.delete_prefix(prefix)


def _bar(total: int, desc: str, show: bool, position: int = 0) -> tqdm:
    return tqdm(total=total, desc=desc, unit="rec", disable=not show, leave=False, position=position)


def produce_and_consume(
    silo: Silo, lines: Sequence[bytes], lander: BatchLander, batch_limit: int = 500, show_progress: bool = False
) -> tuple[ProduceStats, ConsumeStats]:
    """Producer and consumer side by side (two threads), as deployed: the consumer follows the
    stream while the producer sends, then drains every shard. boto3 clients are thread-safe."""
    stream = silo.resources.stream_name
    sending = threading.Event()
    sending.set()
    with _bar(len(lines), "produce", show_progress, 0) as pbar, _bar(len(lines), "consume", show_progress, 1) as cbar:
        consumer = KinesisConsumer(silo.reader, stream, lander, batch_limit)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="consumer") as pool:
            consuming = pool.submit(consumer.run, progress=cbar.update, follow=sending.is_set)
            try:
                produced = KinesisProducer(silo.kinesis, stream).put_all(lines, pbar.update)
            finally:
                sending.clear()  # the consumer now drains what is left and stops
            consumed = consuming.result()
    return produced, consumed


def run_ingest(
    lines: Sequence[bytes],
    dataset: str = "digits",
    do_reset: bool = False,
    with_vpc: bool = True,
    batch_limit: int = 500,
    show_progress: bool = True,
    trust: TrustStore | None = None,
) -> tuple[IngestSummary, VerifyResult]:
    """Provision, put ``lines`` on the stream, consume and land them, then verify the landing."""
    if not lines:
        raise LabError("nothing to send: the input had no records")
    batch_prefix(SILO, dataset)  # a dataset name that is not a safe key part fails here, before any work
    summary = IngestSummary(silo=SILO, dataset=dataset)
    with summary.timed("provision"):
        resources = provision(with_vpc=with_vpc)
        silo = Silo.connect(resources)
        if do_reset:
            reset(silo, dataset)
    trust = trust or TrustStore.from_dir()
    lander = silo.lander(dataset, trust)
    with summary.timed("produce_consume"):
        produced, consumed = produce_and_consume(silo, lines, lander, batch_limit, show_progress)
        lander.reject(produced.rejected)
    kms_calls_ingest = silo.kms.calls
    with summary.timed("verify"):
        result = verify_landing(
            silo.store, silo.provider, SILO, dataset, trust,
            expected_ids=lander.checkpoint.accepted_ids, expected_dead_letters=lander.checkpoint.dead_lettered,
        )
    summary.record_run(produced.sent, consumed, result, kms_calls=silo.kms.calls,
                       rejected=len(produced.rejected), lines=len(lines))
    summary.extra.update({
        "put_records_calls": produced.calls,
        "retried_entries": produced.retried_entries,
        "split_calls": produced.split_calls,
        "kms_calls_ingest": kms_calls_ingest,
        "stream": resources.stream_name,
        "bucket": resources.bucket,
        "kms_key": resources.key_alias,
    })
    return summary, result
