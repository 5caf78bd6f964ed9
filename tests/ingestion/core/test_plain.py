"""The benchmark's plain baseline: a JSON parse, raw lines, a positions-only checkpoint — and nothing else."""
from __future__ import annotations

from ingestion.core.checkpoint import CheckpointStore
from ingestion.core.landing import batch_key
from ingestion.core.plain import PlainLander
from ingestion.records import Record
from lab.storage import LocalDirStore


def test_plain_lander_lands_raw_lines_unchecked(store: LocalDirStore, records: list[Record]) -> None:
    rows: list[object] = []
    lander = PlainLander(store, "aws", "bench", CheckpointStore(store, "checkpoints/plain.json"),
                         sink=lambda batch, parsed: rows.extend(parsed))
    unsigned = records[1].model_copy(update={"signature": ""}).to_json().encode()  # the secure path refuses it
    items = [(records[0].to_json().encode(), "s:1"), (unsigned, "s:2"), (unsigned, "s:3"), (b"not json", "s:4")]
    result = lander.land("s-1", items, {"s": "4"})
    assert (result.landed, result.dead_lettered, result.duplicates) == (3, 1, 0)  # no signature check, no dedupe
    assert store.get(batch_key("aws", "bench", "s-1")) == b"\n".join(raw for raw, _ in items[:3]) + b"\n"  # no envelope
    assert len(rows) == 3 and lander.checkpoint.positions == {"s": "4"} and not lander.checkpoint.accepted_ids


def test_the_floor_legs_work_runs_once_per_parsed_record(store: LocalDirStore, records: list[Record]) -> None:
    lander = PlainLander(store, "aws", "benchfloor", CheckpointStore(store, "checkpoints/floor.json"))
    seen: list[bytes] = []
    lander.per_record = seen.append
    items = [(records[0].to_json().encode(), "s:1"), (b"not json", "s:2"), (records[1].to_json().encode(), "s:3")]
    result = lander.land("s-1", items, {"s": "3"})
    assert (result.landed, result.dead_lettered) == (2, 1) and seen == [items[0][0], items[2][0]]
