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

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.cli import run_main

if TYPE_CHECKING:
    from ingestion.core.run import SiloAdapter


def adapter(args: argparse.Namespace) -> SiloAdapter:
    from ingestion.aws.ingest import Adapter

    return Adapter(with_vpc=not args.no_vpc)


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.core.cli import silo_ingest_main

    return silo_ingest_main(
        "ingestion/aws/kinesis_ingest.py", __doc__ or "", "aws", "AWS silo ingestion", adapter, argv,
        batch_default=500, batch_help="GetRecords limit per batch (at most 10000)", add_flags=no_vpc_flag)


def no_vpc_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-vpc", action="store_true", help="skip the VPC and its endpoints")


if __name__ == "__main__":
    run_main(main)
