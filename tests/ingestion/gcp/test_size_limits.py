"""Pub/Sub size limits on the emulator: a message over 10 MB is dead-lettered, its neighbours land."""
from __future__ import annotations

from ingestion import samples
from ingestion.core import landing
from ingestion.gcp.ingest import GcpSilo, ingest


def test_oversize_messages_are_dead_lettered_and_their_neighbours_land(silo: GcpSilo) -> None:
    valid = [r.to_json().encode() for r in samples.generate_records("gcp", 10, seed=5)]
    huge = b"x" * 10_500_000  # over Pub/Sub's 10 MB per message: refused before publishing
    big_for_consumer = b"z" * (2 * 1024 * 1024)  # fits Pub/Sub, over the consumer's 64 KiB contract limit
    lines = valid[:4] + [huge] + valid[4:7] + [big_for_consumer] + valid[7:]
    summary = ingest(lines, progress=False, names=silo.names)
    assert summary.verified, summary.extra["verify"]
    assert (summary.sent, summary.landed, summary.dead_lettered) == (11, 10, 2)
    letters = list(landing.read_deadletters(silo.store(), silo.provider(), "gcp"))
    rejected = [d for d in letters if d.position == "producer:4"]
    assert len(rejected) == 1 and "Pub/Sub accepts at most 10000000" in rejected[0].reason
    consumer_side = [d for d in letters if not d.position.startswith("producer:")]
    assert len(consumer_side) == 1 and "the limit is 65536" in consumer_side[0].reason
