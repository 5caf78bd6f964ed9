"""Benchmark: the secure GCP path vs a bare Pub/Sub publish + pull, on the same emulators in one run.

What is timed (same records, same emulators, same run):

* **bare**: publish the lines to a plain topic (no ordering, no attributes), then
  pull and ack them (no validation, no landing). ``bare_publish_records_per_s``
  is the publish part alone, for reference.
* **secure path**: ``pipeline.ingest`` minus provisioning and the final
  verification, i.e. its ``produce_consume_s``: from the first publish (ordering
  key, provenance attributes) until the last record has landed, the consumer
  running alongside the publisher — pull, validate (schema, Ed25519 signature,
  dedupe), seal each batch with a Cloud KMS-wrapped data key into GCS, insert the
  rows into BigQuery, commit the checkpoint, ack. The landing (GCS + BigQuery) is
  then verified (untimed); the benchmark fails if it is not.
* ``secure_vs_bare_ratio`` = secure records/s / bare records/s.
* ``kms_calls``: Cloud KMS requests made during the secure path (wraps; the
  data-key cache serves the rest).

``make bench`` runs this with the other silos; ``python ingestion/gcp/bench.py``
runs it alone.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from ingestion.core.cli import silo_bench_main
from ingestion.core.cpu import CpuMeter, why_figures
from lab.cli import LabError, run_main


def _bare(lines: list[bytes], names: Any, cpu: CpuMeter) -> tuple[float, float]:
    """(publish seconds, publish + pull + ack seconds) for a plain topic and subscription; ``cpu``
    meters the timed part."""
    from ingestion.gcp import clients

    publisher, subscriber = clients.publisher(ordering=False), clients.subscriber()
    topic = f"{names.topic}-bare"
    sub = f"{names.subscription}-bare"
    publisher.create_topic(request={"name": topic})
    subscriber.create_subscription(request={"name": sub, "topic": topic, "ack_deadline_seconds": 60})
    with cpu:
        start = time.perf_counter()
        for future in [publisher.publish(topic, line) for line in lines]:
            future.result(timeout=60)
        published = time.perf_counter() - start
        got = 0
        while got < len(lines):
            resp = subscriber.pull(request={"subscription": sub, "max_messages": 500}, timeout=30)
            if resp.received_messages:
                subscriber.acknowledge(
                    request={"subscription": sub, "ack_ids": [m.ack_id for m in resp.received_messages]})
            got += len(resp.received_messages)
        return published, time.perf_counter() - start


def bench(records: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Run both paths on the GCP emulators (they must be up) and return the figures."""
    from ingestion.gcp import clients
    from ingestion.gcp.ingest import ingest, source_lines
    from lab.config import settings

    lines = source_lines(records, None, seed=seed)
    cfg = settings()
    names = clients.GcpNames(cfg.gcp_project, cfg.gcp_location, f"bench{uuid.uuid4().hex[:8]}")
    bare_cpu = CpuMeter("gcp")
    publish_s, bare_s = _bare(lines, names, bare_cpu)
    secure_cpu = CpuMeter("gcp")
    summary = ingest(lines, progress=False, names=names, cpu=secure_cpu)
    if not summary.verified or summary.landed != records:
        raise LabError(f"gcp benchmark landing did not verify: {summary.extra.get('verify')}")
    secure_s = summary.timings["produce_consume_s"]
    kms_calls = int(summary.extra["kms_calls_ingest"])
    return {
        "silo": "gcp",
        "records": records,
        "bare_records_per_s": round(records / bare_s, 1),
        "bare_publish_records_per_s": round(records / publish_s, 1),
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
    return silo_bench_main("ingestion/gcp/bench.py", __doc__ or "", "gcp", bench, argv)


if __name__ == "__main__":
    run_main(main)
