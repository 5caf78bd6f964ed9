"""Event Hubs size limits on the local hub: oversize events are dead-lettered, their neighbours land."""
from __future__ import annotations

import pytest

from ingestion import samples
from ingestion.azure.ingest import Silo, run_ingest
from ingestion.core import landing
from ingestion.core.limits import EVENT_HUBS_TIERS, MIB

pytestmark = pytest.mark.emulator


def test_oversize_events_are_dead_lettered_and_their_neighbours_land(silo: Silo) -> None:
    standard = EVENT_HUBS_TIERS["standard"]
    valid = [r.to_json().encode() for r in samples.generate_records("azure", 10, seed=4)]
    huge = b"x" * (2 * MIB)  # over the tier's event size: refused before sending
    framed_over = b"y" * (standard.max_record_bytes - 16)  # fits the tier alone, not with its AMQP framing
    big_for_consumer = b"z" * (100 * 1024)  # fits the hub, over the consumer's 64 KiB contract limit
    lines = valid[:3] + [huge] + valid[3:6] + [framed_over] + valid[6:8] + [big_for_consumer] + valid[8:]
    summary, result = run_ingest(lines, do_reset=True, show_progress=False)
    assert summary.verified, result.errors
    assert (summary.sent, summary.landed, summary.dead_lettered) == (11, 10, 3)
    letters = {d.position: d for d in landing.read_deadletters(silo.store, silo.provider, "azure")}
    assert "Event Hubs (standard tier) accepts at most 1048576" in letters["producer:3"].reason
    assert "exceeds the largest batch the hub accepts" in letters["producer:7"].reason
    consumer_side = [d for p, d in letters.items() if not p.startswith("producer:")]
    assert len(consumer_side) == 1 and "the limit is 65536" in consumer_side[0].reason
