"""Benchmark: the AWS silo's secure pipeline against the same pipeline with security off, on moto.

Secure: Kinesis stream with SSE-KMS, contract + Ed25519 + dedupe, envelope under a
KMS data key (cached), S3 puts with SSE-KMS, checkpoint of accepted ids. Plain: a
second stream and bucket without SSE, a JSON parse, raw puts, positions-only
checkpoint. Same records, same moto, the floor leg (plain plus the floor's verify
and parse per record), the order rotating; method and figures in
``ingestion/core/bench.py``. Also: envelope encryption vs bare AES-GCM on one buffer
with the same cached KMS provider (``envelope_vs_aesgcm_ratio``).

``make bench`` runs this with the other silos; ``python -m ingestion.aws.bench`` alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingestion.core.cli import BENCH_RECORDS, BENCH_ROUNDS, silo_bench_main
from lab.cli import run_main

ENVELOPE_MIB = 32
#: rounds of the envelope figure (best of each side, taken in turns): ~0.6 s, and steadier than 7
ENVELOPE_REPEATS = 15


def bench(records: int = BENCH_RECORDS, seed: int = 0, rounds: int = BENCH_ROUNDS) -> dict[str, Any]:
    """Secure vs plain on the AWS silo (moto must be up), plus the envelope figure."""
    from encryption.bench import envelope_vs_aesgcm
    from ingestion import samples
    from ingestion.aws.ingest import Adapter
    from ingestion.core.bench import compare

    lines = [r.to_json().encode() for r in samples.generate_records("aws", records, seed=seed)]
    figures = {"silo": "aws", **compare(lambda secure: Adapter(with_vpc=False, secure=secure), lines, rounds)}
    secure = Adapter(with_vpc=False)
    secure.provision()
    envelope = envelope_vs_aesgcm(size_mib=ENVELOPE_MIB, repeats=ENVELOPE_REPEATS, provider=secure.provider)
    figures.update({"envelope_encrypt_mb_s": envelope["envelope_encrypt_mb_s"],
                    "bare_aesgcm_encrypt_mb_s": envelope["bare_aesgcm_encrypt_mb_s"],
                    "envelope_vs_aesgcm_ratio": envelope["envelope_over_bare"]})
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    return silo_bench_main("ingestion/aws/bench.py", __doc__ or "", "aws", bench, argv)


if __name__ == "__main__":
    run_main(main)
