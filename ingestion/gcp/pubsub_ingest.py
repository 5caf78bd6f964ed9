"""GCP silo: signed records -> Pub/Sub -> validating consumer -> GCS (envelope + Cloud KMS) + BigQuery.

Starts (or reuses) the local GCP emulators (or uses real GCP with LAB_GCP_MODE=real and
Application Default Credentials), provisions the silo, publishes the records while the
consumer lands them (unary pulls), then re-reads everything it landed, cross-checks
BigQuery, and exits 0 only if that verification passed.

Examples::

    python ingestion/gcp/pubsub_ingest.py --records 1000 --json
    python ingestion/gcp/pubsub_ingest.py --records 200 --with-invalid 20
    python data/generate.py --silo gcp --records 500 --out /tmp/gcp.jsonl
    python ingestion/gcp/pubsub_ingest.py --source /tmp/gcp.jsonl --keep
"""
from __future__ import annotations

from collections.abc import Sequence

from lab.cli import exit_code, parser, print_summary, run_main


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.core.cli import add_ingest_arguments, run_silo_cli

    p = parser("ingestion/gcp/pubsub_ingest.py", __doc__ or "")
    add_ingest_arguments(p, "gcp", batch_default=500, batch_help="messages per pull, one landed batch (at most 1000)")
    args = p.parse_args(argv)

    from ingestion.gcp.ingest import Adapter

    summary = run_silo_cli(Adapter(), args)
    print_summary(summary.to_dict(), args.json, "GCP silo ingestion")
    return exit_code(summary.verified)


if __name__ == "__main__":
    run_main(main)
