"""GCP silo ingestion: Pub/Sub -> validate -> BigQuery + envelope-encrypted GCS batches (Cloud KMS).

Starts the local GCP emulators when needed (or uses real GCP with LAB_GCP_MODE=real),
provisions the resources, publishes signed records, consumes them with a unary
pull loop, lands and verifies them. Exit 0 only when verification passed.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lab.cli import MAX_RECORDS, LabError, count, exit_code, parser, print_summary, run_main, seed


def main(argv: Sequence[str] | None = None) -> int:
    ap = parser("pubsub_ingest.py", __doc__ or "")
    ap.add_argument("--records", type=count(MAX_RECORDS), default=1000, help="records to publish (default 1000)")
    ap.add_argument("--source", type=Path, default=None,
                    help="JSONL file of records (from data/generate.py --silo gcp); default: generate samples")
    ap.add_argument("--seed", type=seed, default=0, help="seed of generated records (default 0)")
    ap.add_argument("--with-invalid", type=count(MAX_RECORDS, lower=0), default=0, metavar="K",
                    help="mix K invalid records into the generated ones (they must be dead-lettered)")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = ap.parse_args(argv)
    if args.with_invalid < 0:
        raise LabError("--with-invalid must be >= 0")

    from lab.localcloud import EmulatorError, local_cloud
    from ingestion.gcp.pipeline import ingest, source_lines

    lines = source_lines(args.records, args.source, args.with_invalid, seed=args.seed)
    try:
        with local_cloud("gcp"):
            summary = ingest(lines, progress=not args.json).to_dict()
    except EmulatorError as exc:
        raise LabError(str(exc)) from None
    print_summary(summary, args.json, "GCP silo ingestion")
    return exit_code(bool(summary["verified"]))


if __name__ == "__main__":
    run_main(main)
