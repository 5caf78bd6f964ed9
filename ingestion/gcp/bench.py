"""Benchmark: the GCP silo's secure pipeline against the same pipeline with security off.

Secure: Pub/Sub (ordering key, provenance attributes) → contract + Ed25519 + dedupe →
envelope under Cloud KMS (data-key cache) into GCS → BigQuery rows → checkpoint →
ack. Plain: its own topic, subscription, bucket and table, a JSON parse, raw GCS
objects and rows, positions-only checkpoint. Same records, same emulators, the floor
leg (plain plus the floor's verify and parse per record), the order rotating; method and
figures in ``ingestion/core/bench.py``.

``make bench`` runs this with the other silos; ``python -m ingestion.gcp.bench`` alone.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ingestion.core.cli import BENCH_RECORDS, BENCH_ROUNDS, silo_bench_main
from lab.cli import run_main


def bench(records: int = BENCH_RECORDS, seed: int = 0, rounds: int = BENCH_ROUNDS) -> dict[str, Any]:
    """Secure vs plain on the GCP silo (its emulators must be up), under fresh resource names."""
    from ingestion import samples
    from ingestion.core.bench import compare
    from ingestion.gcp import clients
    from ingestion.gcp.ingest import Adapter
    from lab.config import settings

    cfg = settings()
    names = clients.GcpNames(cfg.gcp_project, cfg.gcp_location, f"bench{uuid.uuid4().hex[:8]}")
    lines = [r.to_json().encode() for r in samples.generate_records("gcp", records, seed=seed)]
    return {"silo": "gcp", **compare(lambda secure: Adapter(names, secure=secure), lines, rounds)}


def main(argv: Sequence[str] | None = None) -> int:
    return silo_bench_main("ingestion/gcp/bench.py", __doc__ or "", "gcp", bench, argv)


if __name__ == "__main__":
    run_main(main)
