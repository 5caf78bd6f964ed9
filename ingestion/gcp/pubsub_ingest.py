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

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.cli import run_main

if TYPE_CHECKING:
    from ingestion.core.run import SiloAdapter


def adapter(args: argparse.Namespace) -> SiloAdapter:
    from ingestion.gcp.ingest import Adapter

    return Adapter()


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.core.cli import silo_ingest_main

    return silo_ingest_main(
        "ingestion/gcp/pubsub_ingest.py", __doc__ or "", "gcp", "GCP silo ingestion", adapter, argv,
        batch_default=500, batch_help="messages per pull, one landed batch (at most 1000)")


if __name__ == "__main__":
    run_main(main)
