"""AWS silo under faults the existing tests do not cover: the service path goes down while the
producer sends, and KMS is unreachable while the consumer lands.

Consumer crash/restart and PutRecords throttling/partial failures are covered in
tests/ingestion/aws/test_consumer_restart.py and test_producer_retry.py.
moto keeps its state in memory: a killed moto comes back empty, which no retry
can undo (a real Kinesis stream is durable). So the outage here is injected on
the network path (tests/faults/outage.py): moto keeps its data, the SDK sees
connection refused and reset connections, as during a real regional blip.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import boto3
import pytest

from encryption.errors import KeyServiceError
from encryption.providers.aws_kms import CLIENT_CONFIG, AwsKmsProvider
from ingestion import samples
from ingestion.aws.clients import CONFIG
from ingestion.aws.consumer import KinesisConsumer
from ingestion.aws.ingest import Silo
from ingestion.aws.producer import KinesisProducer
from ingestion.aws.provision import provision
from ingestion.core.landing import batch_prefix
from ingestion.core.pipeline import BatchLander
from ingestion.core.verify import verify_landing
from ingestion.records import TrustStore
from lab.config import settings
from tests.faults.outage import Outage
from tests.faults.tally import count


@pytest.fixture
def silo(clean_aws: str) -> Silo:
    return Silo.connect(provision(with_vpc=False))


@pytest.fixture
def outage(moto_url: str) -> Iterator[Outage]:
    path = Outage(int(moto_url.rsplit(":", 1)[1]))
    yield path
    path.close()


def via(outage: Outage, service: str, config: object) -> object:
    return boto3.client(service, region_name=settings().aws_region, endpoint_url=f"http://{outage.url}",
                        config=config)


def consume_all(silo: Silo, lander: BatchLander) -> None:
    KinesisConsumer(silo.kinesis, silo.resources.stream_name, lander, batch_limit=20).run()


def check_landing(silo: Silo, trust: TrustStore, ids: set[str]) -> int:
    """Verify every landed batch and return how many records landed (each id exactly once)."""
    lander = silo.lander("digits", trust)
    result = verify_landing(silo.store, silo.provider, "aws", "digits", trust, expected_ids=ids,
                            expected_dead_letters=lander.checkpoint.dead_lettered)
    assert result.verified, result.errors
    assert result.ids == ids and result.duplicates == 0
    return result.records


def test_producer_rides_out_an_outage_and_resumes(silo: Silo, outage: Outage) -> None:
    records = samples.generate_records("aws", 120, seed=21)
    lines = [r.to_json().encode() for r in records]
    producer = KinesisProducer(via(outage, "kinesis", CONFIG), silo.resources.stream_name,
                               base_delay_s=0.2, rng=random.Random(7))
    for i in range(0, len(lines), 20):
        if i == 40:  # mid-production: the path drops for 1.5 s
            outage.cut()
            threading.Timer(1.5, outage.restore).start()
        producer.put_all(lines[i:i + 20])
    assert producer.stats.throttled_calls >= 1  # the outage was seen and retried, not skipped
    trust = TrustStore.from_dir()
    lander = silo.lander("digits", trust)
    consumed = KinesisConsumer(silo.kinesis, silo.resources.stream_name, lander, batch_limit=20).run()
    landed = check_landing(silo, trust, {r.id for r in records})
    assert landed == len(records) and consumed.landed == len(records)
    assert consumed.read - consumed.duplicates == len(records)  # any resent copy was dropped, never landed
    count("aws: endpoint outage during production", faults=outage.cuts, records_in=len(records),
          landed=landed, dead_lettered=consumed.dead_lettered - consumed.duplicates,
          lost=len(records) - landed, duplicates_landed=0)


def test_kms_unreachable_during_landing_keeps_records_in_the_stream(silo: Silo, outage: Outage) -> None:
    records = samples.generate_records("aws", 100, seed=22)
    KinesisProducer(silo.kinesis, silo.resources.stream_name).put_all([r.to_json().encode() for r in records])
    trust = TrustStore.from_dir()
    kms = AwsKmsProvider(silo.resources.key_alias, client=via(outage, "kms", CLIENT_CONFIG))
    lander = BatchLander(silo.store, kms, "aws", "digits", trust, silo.checkpoints())
    first = KinesisConsumer(silo.kinesis, silo.resources.stream_name, lander, batch_limit=20).run(max_batches=2)
    outage.cut()  # KMS goes away with batches still to land
    with pytest.raises(KeyServiceError) as failed:
        consume_all(silo, lander)
    assert "AWS KMS" in str(failed.value) and records[0].id not in str(failed.value)
    durable = silo.lander("digits", trust).checkpoint
    assert durable.batches == first.batches == 2  # the failed batch was not checkpointed ...
    assert len(list(silo.store.list(batch_prefix("aws", "digits")))) == 2  # ... nor landed
    outage.restore()
    consume_all(silo, silo.lander("digits", trust))  # a restarted consumer picks up from the checkpoint
    landed = check_landing(silo, trust, {r.id for r in records})
    assert landed == len(records)
    count("aws: KMS unreachable during landing", faults=outage.cuts, records_in=len(records), landed=landed,
          dead_lettered=0, lost=len(records) - landed, duplicates_landed=0)
