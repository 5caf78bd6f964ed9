"""boto3 clients for the AWS silo. The endpoint is never an argument: boto3 reads
``AWS_ENDPOINT_URL`` (set by lab.localcloud for moto) or, with LAB_AWS_MODE=real,
talks to AWS with its own credential chain."""
from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from lab.config import settings

#: botocore's "standard" retry mode already backs off on whole-call throttling errors.
CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 5})


def client(service: str, **kwargs: Any) -> Any:
    """A boto3 client in the lab's region with the lab's timeouts and retries."""
    return boto3.client(service, region_name=settings().aws_region, config=CONFIG, **kwargs)
