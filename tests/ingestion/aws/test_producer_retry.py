"""PutRecords partial failures and throttling: only failed entries are retried; nothing doubles.

Fault injection wraps the real boto3 client (the service itself is the real moto
over the wire): some entries are withheld from the service and reported back as
throttled, exactly as Kinesis reports a partial failure.
"""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ingestion.aws.ingest import Silo
from ingestion.aws.producer import MAX_RECORDS_PER_CALL, KinesisProducer, chunks
from lab.cli import LabError

THROTTLED = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded (injected)"}


class FlakyKinesis:
    """Real client; the first `partial` PutRecords calls drop every 3rd entry, `throttle` calls fail whole."""

    def __init__(self, real: Any, partial: int = 0, throttle: int = 0, code: str = "ProvisionedThroughputExceededException") -> None:
        self.real = real
        self.partial = partial
        self.throttle = throttle
        self.code = code
        self.requests: list[list[bytes]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.requests.append([r["Data"] for r in Records])
        if self.throttle:
            self.throttle -= 1
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, "PutRecords")
        if not self.partial:
            return dict(self.real.put_records(StreamName=StreamName, Records=Records))
        self.partial -= 1
        keep = [r for i, r in enumerate(Records) if i % 3 != 0]
        sent = iter(self.real.put_records(StreamName=StreamName, Records=keep)["Records"])
        results = [dict(THROTTLED) if i % 3 == 0 else next(sent) for i in range(len(Records))]
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def stream_contents(silo: Silo) -> list[bytes]:
    out: list[bytes] = []
    for shard in silo.kinesis.list_shards(StreamName=silo.resources.stream_name)["Shards"]:
        iterator = silo.kinesis.get_shard_iterator(StreamName=silo.resources.stream_name, ShardId=shard["ShardId"],
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        out.extend(r["Data"] for r in silo.kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"])
    return out


def no_sleep(_: float) -> None:
    return None


def test_partial_failures_retry_only_failed_entries(silo: Silo) -> None:
    lines = [f"record-{i}".encode() for i in range(30)]
    flaky = FlakyKinesis(silo.kinesis, partial=2)
    producer = KinesisProducer(flaky, silo.resources.stream_name, sleep=no_sleep)
    stats = producer.put_all(lines)
    assert stats.sent == 30 and stats.retried_entries == 10 + 4
    assert [len(r) for r in flaky.requests] == [30, 10, 4]
    assert flaky.requests[1] == lines[0::3]  # the retry carries exactly the failed entries
    assert sorted(stream_contents(silo)) == sorted(lines)  # each record exactly once


def test_throttled_calls_back_off_and_retry(silo: Silo) -> None:
    delays: list[float] = []
    flaky = FlakyKinesis(silo.kinesis, throttle=3)
    producer = KinesisProducer(flaky, silo.resources.stream_name, sleep=delays.append, base_delay_s=0.1)
    producer.put_all([b"a", b"b"])
    assert producer.stats.throttled_calls == 3 and len(delays) == 3
    assert all(0 <= d <= 0.1 * 2**i for i, d in enumerate(delays))  # full jitter under an exponential cap
    assert sorted(stream_contents(silo)) == [b"a", b"b"]


def test_gives_up_with_a_clear_error(silo: Silo) -> None:
    flaky = FlakyKinesis(silo.kinesis, throttle=100)
    with pytest.raises(LabError, match="still failing after 4 attempts"):
        KinesisProducer(flaky, silo.resources.stream_name, max_attempts=4, sleep=no_sleep).put_all([b"a"])
    denied = FlakyKinesis(silo.kinesis, throttle=1, code="AccessDeniedException")
    with pytest.raises(LabError, match="AccessDeniedException"):
        KinesisProducer(denied, silo.resources.stream_name, sleep=no_sleep).put_all([b"a"])
    assert len(denied.requests) == 1  # not retried


def test_batches_respect_kinesis_limits() -> None:
    entries = [{"Data": b"x" * 100, "PartitionKey": "p"} for _ in range(1234)]
    assert [len(c) for c in chunks(entries)] == [MAX_RECORDS_PER_CALL, MAX_RECORDS_PER_CALL, 234]
    big = [{"Data": b"x" * (1024 * 1024), "PartitionKey": "p"} for _ in range(7)]
    assert [len(c) for c in chunks(big)] == [4, 3]  # 5 MiB per call
