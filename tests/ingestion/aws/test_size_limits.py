"""Kinesis size limits on moto (which accepts records over 1 MiB: the producer enforces the limit).

Oversize records are dead-lettered with the reason and the records around them land;
requests stay within 5 MiB; a call the service refuses is split down to the record at fault.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ingestion import samples
from ingestion.aws.ingest import Silo, run_ingest
from ingestion.aws.producer import KinesisProducer, entry_size
from ingestion.core import landing
from ingestion.core.limits import KINESIS, MIB
from tests.ingestion.aws.test_producer_retry import no_sleep, stream_contents


class Recording:
    """The real client; remembers each PutRecords request, optionally refusing any that holds a poison record."""

    def __init__(self, real: Any, poison: bytes | None = None) -> None:
        self.real, self.poison = real, poison
        self.requests: list[list[dict[str, Any]]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.requests.append(Records)
        if self.poison is not None and any(r["Data"].startswith(self.poison) for r in Records):
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "injected"}}, "PutRecords")
        return dict(self.real.put_records(StreamName=StreamName, Records=Records))


def test_oversize_records_are_dead_lettered_and_their_neighbours_land(silo: Silo) -> None:
    valid = [r.to_json().encode() for r in samples.generate_records("aws", 10, seed=3)]
    huge = b'{"id":"huge","pad":"' + b"x" * (2 * MIB) + b'"}'
    just_over = b"y" * (KINESIS.max_record_bytes - 32 + 1)  # + the 32-character partition key: 1 byte over
    big_for_consumer = b"z" * (100 * 1024)  # fits Kinesis, over the consumer's 64 KiB contract limit
    lines = valid[:3] + [huge] + valid[3:6] + [just_over] + valid[6:8] + [big_for_consumer] + valid[8:]
    summary, result = run_ingest(lines, do_reset=True, with_vpc=False, show_progress=False)
    assert summary.verified, result.errors
    assert (summary.sent, summary.landed, summary.dead_lettered) == (11, 10, 3)
    assert summary.extra["rejected_by_producer"] == 2
    letters = list(landing.read_deadletters(silo.store, silo.provider, "aws"))
    by_position = {d.position: d for d in letters}
    assert set(by_position) >= {"producer:3", "producer:7"}
    assert "Kinesis accepts at most 1048576" in by_position["producer:3"].reason
    assert "1048577 bytes" in by_position["producer:7"].reason
    consumer_side = [d for d in letters if d.position.startswith("shardId-")]
    assert len(consumer_side) == 1 and "the limit is 65536" in consumer_side[0].reason


def test_put_records_requests_stay_within_5_mib(silo: Silo) -> None:
    lines = [bytes([65 + i]) * 900_000 for i in range(12)]  # 10.8 MB in all
    recording = Recording(silo.kinesis)
    stats = KinesisProducer(recording, silo.resources.stream_name, sleep=no_sleep).put_all(lines)
    sizes = [sum(entry_size(e) for e in request) for request in recording.requests]
    assert stats.sent == 12 and not stats.rejected
    assert len(sizes) == 3 and all(size <= 5 * MIB for size in sizes), sizes
    assert sorted(stream_contents(silo)) == sorted(lines)


def test_a_refused_call_is_split_down_to_the_record_at_fault(silo: Silo) -> None:
    lines = [f"record-{i}".encode() for i in range(8)]
    lines[5] = b"POISON-5"
    recording = Recording(silo.kinesis, poison=b"POISON")
    stats = KinesisProducer(recording, silo.resources.stream_name, sleep=no_sleep).put_all(lines)
    assert stats.sent == 7 and [(r.index, r.raw) for r in stats.rejected] == [(5, b"POISON-5")]
    assert "ValidationException" in stats.rejected[0].reason and stats.split_calls >= 2
    assert sorted(stream_contents(silo)) == sorted(line for line in lines if line != b"POISON-5")
