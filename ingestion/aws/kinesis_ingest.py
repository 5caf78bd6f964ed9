"""AWS silo: signed records -> Kinesis (KMS SSE) -> validating consumer -> S3 (SSE-KMS + envelope).

Starts (or reuses) the local cloud (moto), provisions the silo, sends the
records while the consumer lands them, then re-reads everything it landed and
exits 0 only if that verification passed. With LAB_AWS_MODE=real the same code
runs against your AWS account (credentials from boto3's usual chain).

Examples::

    python ingestion/aws/kinesis_ingest.py --records 1000
    python ingestion/aws/kinesis_ingest.py --records 200 --with-invalid 20 --json
    python data/generate.py --silo aws --records 500 --out /tmp/aws.jsonl
    python ingestion/aws/kinesis_ingest.py --source /tmp/aws.jsonl
"""
from __future__ import annotations

from collections.abc import Sequence

from lab.cli import LabError, exit_code, parser, print_summary, run_main


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.core.cli import add_ingest_arguments, input_lines, wants_reset

    p = parser("ingestion/aws/kinesis_ingest.py", __doc__ or "")
    add_ingest_arguments(p, "aws", batch_default=500, batch_help="GetRecords limit per batch")
    p.add_argument("--no-vpc", action="store_true", help="skip the VPC and its endpoints")
    args = p.parse_args(argv)
    if args.batch_size > 10_000:
        raise LabError("--batch-size must be at most 10000 (the GetRecords limit)")

    from ingestion.aws.ingest import run_ingest
    from lab.localcloud import EmulatorError, local_cloud

    lines = input_lines(args, "aws")
    try:
        with local_cloud("aws"):
            summary, _ = run_ingest(lines, dataset=args.dataset, do_reset=wants_reset(args, "aws"),
                                    with_vpc=not args.no_vpc, batch_limit=args.batch_size)
    except EmulatorError as exc:
        raise LabError(str(exc)) from None
    except ValueError as exc:  # e.g. a dataset name that is not a safe key part
        raise LabError(str(exc)) from None
    print_summary(summary.to_dict(), args.json, "AWS silo ingestion")
    return exit_code(summary.verified)


if __name__ == "__main__":
    run_main(main)
