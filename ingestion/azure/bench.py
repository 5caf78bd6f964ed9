"""Benchmark: the Azure silo's secure path vs a bare Event Hubs send, on the same emulators, in one run.

``bench(records)`` returns figures (records/s); ``make bench`` prints them. The
secure path is the whole step: signed records sent, consumed, validated
(signature + schema + dedupe), envelope-encrypted under a Key Vault key, landed
in Blob over HTTPS with OAuth, checkpointed, then re-read and verified. The bare
path sends the same bytes to the same hub with the same producer and nothing
else. Both are measured on the local emulators (loopback, no TLS on AMQP), so
the figures compare code paths, not Azure's service limits.

Run: ``python ingestion/azure/bench.py --records 1000``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from lab.cli import parser, positive_int, print_summary, run_main


def bench(records: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Secure-path and bare-send throughput for ``records`` sample records."""
    from ingestion import samples
    from ingestion.azure.ingest import Silo, run_ingest
    from ingestion.azure.producer import EventHubProducer
    from ingestion.azure.provision import provision
    from lab.localcloud import local_cloud

    lines = [r.to_json().encode() for r in samples.generate_records("azure", records, seed=seed)]
    with local_cloud("azure"):
        silo = Silo.connect(provision())
        start = time.perf_counter()
        with silo.producer_client() as client:
            sent = EventHubProducer(client).put_all(lines).sent
        bare_s = time.perf_counter() - start
        start = time.perf_counter()
        summary, result = run_ingest(lines, do_reset=True, show_progress=False)
        secure_s = time.perf_counter() - start
    if not result.verified or sent != records:
        raise RuntimeError(f"benchmark run did not verify: {result.errors[:3]}")
    return {
        "silo": "azure",
        "records": records,
        "bare_send_records_per_s": round(records / bare_s, 1),
        "secure_path_records_per_s": round(records / secure_s, 1),
        "secure_path_slowdown": round(secure_s / bare_s, 2),
        "secure_steps_s": summary.timings,
        "kms_calls": summary.kms_calls,
        "verified": summary.verified,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ingestion/azure/bench.py", __doc__ or "")
    p.add_argument("--records", type=positive_int, default=1000, help="records per path (default 1000)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    print_summary(bench(args.records), args.json, "Azure silo benchmark")
    return 0


if __name__ == "__main__":
    run_main(main)
