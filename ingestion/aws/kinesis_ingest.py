"""AWS silo: signed records -> Kinesis (KMS SSE) -> validating consumer -> S3 (SSE-KMS + envelope).

Starts (or reuses) the local cloud (moto), provisions the silo, sends the
records while the consumer lands them, then re-reads everything it landed and
exits 0 only if that verification passed. With LAB_AWS_MODE=real the same code
runs against your AWS account (credentials from boto3's usual chain).

Examples::

    python ingestion/aws/kinesis_ingest.py --records 1000 --json
    python ingestion/aws/kinesis_ingest.py --records 200 --with-invalid 20
    python data/generate.py --silo aws --records 500 --out /tmp/aws.jsonl
    python ingestion/aws/kinesis_ingest.py --source /tmp/aws.jsonl --keep
"""
from __future__ import annotations

from collections.abc import Sequence

from lab.cli import exit_code, parser, print_summary, run_main


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.core.cli import add_ingest_arguments, run_silo_cli

    p = parser("ingestion/aws/kinesis_ingest.py", __doc__ or "")
    add_ingest_arguments(p, "aws", batch_default=500, batch_help="GetRecords limit per batch (at most 10000)")
    p.add_argument("--no-vpc", action="store_true", help="skip the VPC and its endpoints")
    args = p.parse_args(argv)

    from ingestion.aws.ingest import Adapter

    summary = run_silo_cli(Adapter(with_vpc=not args.no_vpc), args)
    print_summary(summary.to_dict(), args.json, "AWS silo ingestion")
    return exit_code(summary.verified)


if __name__ == "__main__":
    run_main(main)
