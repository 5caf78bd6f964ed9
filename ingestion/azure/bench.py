"""Benchmark: the Azure silo's secure path vs a bare Event Hubs send, on the same emulators, in one run.

What is timed (same records, same emulators, same run):

* **bare**: the same record bytes sent to the same hub by the same producer
  (``EventHubProducer.put_all``), nothing else, nothing read back.
* **secure path**: ``run_ingest`` minus provisioning and the final verification,
  i.e. its ``produce_consume_s``: from the first send until the last record has
  landed, the consumer (a second thread) reading every partition while the
  producer sends — validating each record (schema, Ed25519 signature, dedupe),
  envelope encryption under a Key Vault key (data-key cache), the Blob put of each
  batch (HTTPS + OAuth) and a checkpoint put after each batch. The landing is then
  verified (untimed); the benchmark fails if it is not.
* ``secure_vs_bare_ratio`` = secure records/s / bare records/s (the same
  definition as the AWS silo's ``ingestion/bench.py``).
* ``kms_calls``: Key Vault requests made during the secure path (key lookups,
  unwraps; wraps use the public key locally).

Both run on the local emulators (loopback, no TLS on AMQP), so the figures
compare code paths, not Azure's service limits. ``make bench`` runs this with the
other silos; ``python ingestion/azure/bench.py --records 1000`` runs it alone.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ingestion.core.cli import silo_bench_main
from ingestion.core.cpu import CpuMeter, why_figures
from lab.cli import LabError, run_main


def bench(records: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Secure-path and bare-send throughput for ``records`` sample records (needs the local Azure cloud up)."""
    from ingestion import samples
    from ingestion.azure.ingest import Silo, run_ingest
    from ingestion.azure.producer import EventHubProducer
    from ingestion.azure.provision import provision

    lines = [r.to_json().encode() for r in samples.generate_records("azure", records, seed=seed)]
    silo = Silo.connect(provision())
    with silo.producer_client() as client:
        EventHubProducer(client).put_all(lines[:50])  # warm the link once, as the AWS bench does
        with CpuMeter("azure") as bare_cpu:
            start = time.perf_counter()
            sent = EventHubProducer(client).put_all(lines).sent
            bare_s = time.perf_counter() - start
    secure_cpu = CpuMeter("azure")
    summary, result = run_ingest(lines, dataset="bench", do_reset=True, show_progress=False, cpu=secure_cpu)
    if not result.verified or sent != records or summary.landed != records:
        raise LabError(f"azure benchmark landing did not verify: {result.errors[:3]}")
    secure_s = summary.timings["produce_consume_s"]
    kms_calls = int(summary.extra["kms_calls_ingest"])
    return {
        "silo": "azure",
        "records": records,
        "bare_records_per_s": round(records / bare_s, 1),
        "secure_records_per_s": round(records / secure_s, 1),
        "secure_vs_bare_ratio": round(bare_s / secure_s, 3),
        "bare_s": round(bare_s, 3),
        "secure_s": round(secure_s, 3),
        "secure_steps_s": summary.timings,
        "batches": summary.batches,
        "kms_calls": kms_calls,
        "kms_calls_per_10k": round(kms_calls * 10_000 / records, 2),
        "verified": summary.verified,
        **why_figures(lines, bare_cpu, secure_cpu),
    }


def main(argv: Sequence[str] | None = None) -> int:
    return silo_bench_main("ingestion/azure/bench.py", __doc__ or "", "azure", bench, argv)


if __name__ == "__main__":
    run_main(main)
