"""The same consumer step with every security control off: the benchmark's baseline.

``PlainLander`` is a ``BatchLander`` that parses each record as JSON and nothing
more — no contract, no signature, no dedupe — and lands the raw lines without
envelope encryption; its checkpoint keeps positions only. With a plain stream and
store (no SSE/CMEK) it is what the pipeline would cost if it trusted everything,
so secure ÷ plain measures the cost of security alone (``ingestion/core/bench.py``).
Never used outside the benchmark. Its ``per_record`` hook is how the benchmark's floor leg adds the
floor's work (``ingestion.core.floor``) to each record, and nothing else.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from ingestion.core.checkpoint import CheckpointStore
from ingestion.core.landing import batch_key, deadletter_key
from ingestion.core.pipeline import BatchLander, BatchResult, Screened
from ingestion.core.validate import DeadLetter
from ingestion.records import TrustStore
from lab.storage import ObjectStore


class PlainLander(BatchLander):
    """JSON parse → raw put → positions-only checkpoint. ``sink`` gets the parsed dicts."""

    def __init__(self, store: ObjectStore, silo: str, dataset: str, checkpoints: CheckpointStore,
                 sink: Callable[[str, Sequence[Any]], None] | None = None) -> None:
        super().__init__(store, None, silo, dataset, TrustStore({}), checkpoints, sink)  # type: ignore[arg-type]
        #: work done on each raw record after its parse (the benchmark's floor leg: ``Floor.work``)
        self.per_record: Callable[[bytes], object] | None = None

    def _screen(self, items: Sequence[tuple[bytes, str]]) -> list[Any]:
        outcomes: list[Any] = []
        per_record = self.per_record
        for raw, position in items:
            try:
                outcomes.append((raw, orjson.loads(raw)))
            except orjson.JSONDecodeError:
                outcomes.append(DeadLetter("not valid JSON", "", position, base64.b64encode(raw).decode()))
                continue
            if per_record is not None:
                per_record(raw)
        return outcomes

    def _land(self, batch_id: str, screened: Screened, positions: Mapping[str, str]) -> BatchResult:
        dead = [o for o in screened.outcomes if isinstance(o, DeadLetter)]
        kept = [o for o in screened.outcomes if not isinstance(o, DeadLetter)]
        lines, parsed = [raw for raw, _ in kept], [body for _, body in kept]
        if lines:
            self.store.put(batch_key(self.silo, self.dataset, batch_id), b"\n".join(lines) + b"\n")
        if dead:
            self.store.put(deadletter_key(self.silo, batch_id), "\n".join(d.to_json() for d in dead).encode())
        if self.sink is not None:
            self.sink(batch_id, parsed)
        new = self.checkpoint.copy()
        new.positions.update(positions)
        new.batches += 1 if lines else 0
        self.checkpoints.save(new)
        self.checkpoint = new
        return BatchResult(batch_id, len(lines), len(dead), 0)
