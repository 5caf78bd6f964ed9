"""Benchmark: the Azure silo's secure pipeline against the same pipeline with security off.

Secure: Event Hubs → contract + Ed25519 + dedupe → envelope under a Key Vault key
(data-key cache) → Blob over HTTPS + OAuth → checkpoint of accepted ids. Plain: the
same hub and container, a JSON parse, raw blobs, positions-only checkpoint (Azurite
has no server-side encryption to turn off). Same records, same emulators, the floor
leg (plain plus the floor's verify and parse per record), the order rotating; method and
figures in ``ingestion/core/bench.py``. The Event Hubs AMQP link has no TLS on the
emulator, so the figures compare code paths, not Azure's limits.

``make bench`` runs this with the other silos; ``python -m ingestion.azure.bench`` alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingestion.core.cli import BENCH_RECORDS, BENCH_ROUNDS, silo_bench_main
from lab.cli import run_main


def bench(records: int = BENCH_RECORDS, seed: int = 0, rounds: int = BENCH_ROUNDS) -> dict[str, Any]:
    """Secure vs plain on the Azure silo (its local cloud must be up)."""
    from ingestion import samples
    from ingestion.azure.ingest import Adapter
    from ingestion.core.bench import compare

    lines = [r.to_json().encode() for r in samples.generate_records("azure", records, seed=seed)]
    return {"silo": "azure", **compare(lambda secure: Adapter(secure=secure), lines, rounds)}


def main(argv: Sequence[str] | None = None) -> int:
    return silo_bench_main("ingestion/azure/bench.py", __doc__ or "", "azure", bench, argv)


if __name__ == "__main__":
    run_main(main)
