"""Benchmark: the secure GCP path vs a bare Pub/Sub publish + pull, on the same emulators in one run.

bare:   publish the lines to a plain topic, pull and ack them (no validation, no landing).
secure: publish with ordering and provenance, validate + verify signatures, seal each batch
        with a Cloud KMS-wrapped data key into GCS, insert rows into BigQuery, commit, ack.
Figures are records per second of wall time for publish + consume (verification excluded).
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from ingestion.gcp import clients
from ingestion.gcp.pipeline import ingest, source_lines
from lab.config import settings


def _bare(lines: list[bytes], names: clients.GcpNames) -> float:
    publisher, subscriber = clients.publisher(ordering=False), clients.subscriber()
    topic = f"{names.topic}-bare"
    sub = f"{names.subscription}-bare"
    publisher.create_topic(request={"name": topic})
    subscriber.create_subscription(request={"name": sub, "topic": topic, "ack_deadline_seconds": 60})
    start = time.perf_counter()
    for future in [publisher.publish(topic, line) for line in lines]:
        future.result(timeout=60)
    got = 0
    while got < len(lines):
        resp = subscriber.pull(request={"subscription": sub, "max_messages": 500}, timeout=30)
        if resp.received_messages:
            subscriber.acknowledge(request={"subscription": sub, "ack_ids": [m.ack_id for m in resp.received_messages]})
        got += len(resp.received_messages)
    return time.perf_counter() - start


def bench(records: int = 1000) -> dict[str, Any]:
    """Run both paths on the local GCP emulators (started if needed) and return the figures."""
    from lab.localcloud import local_cloud

    lines = source_lines(records, None)
    cfg = settings()
    names = clients.GcpNames(cfg.gcp_project, cfg.gcp_location, f"bench{uuid.uuid4().hex[:8]}")
    with local_cloud("gcp"):
        bare_s = _bare(lines, names)
        summary = ingest(lines, progress=False, names=names)
    secure_s = summary.timings["publish_s"] + summary.timings["consume_s"]
    return {
        "silo": "gcp",
        "records": records,
        "bare_records_per_s": round(records / bare_s, 1),
        "secure_records_per_s": round(records / secure_s, 1),
        "slowdown": round(secure_s / bare_s, 2),
        "kms_calls": summary.kms_calls,
        "verified": summary.verified,
    }


def main(argv: list[str] | None = None) -> int:
    from lab.cli import parser, positive_int, print_summary

    ap = parser("bench.py", __doc__ or "")
    ap.add_argument("--records", type=positive_int, default=1000, help="records per path (default 1000)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    result = bench(args.records)
    print_summary(result, args.json, "GCP ingestion benchmark")
    return 0 if result["verified"] else 1


if __name__ == "__main__":
    from lab.cli import run_main

    run_main(main)
