"""Least-privilege IAM policies of the AWS silo, kept as JSON files beside this module.

The files are templates (``${ACCOUNT}``, ``${REGION}``, ``${STREAM}``, ``${KEY_ID}``,
``${BUCKET}``) rendered with the provisioned names. They are linted with
parliament and tested against moto's IAM enforcement; they are *applied* only
against real AWS (moto stores key/bucket policies but does not enforce them
faithfully — see the fidelity table in docs/).

* producer.json — put records to the one stream (and the KMS use that Kinesis
  SSE needs for it);
* consumer.json — read the stream, land under raw/ and deadletter/, keep its
  checkpoint, envelope-encrypt with the landing key;
* trainer.json — read raw/ of its silo and decrypt, nothing else;
* bucket.json — bucket policy: deny non-TLS requests and uploads not encrypted
  with SSE-KMS under the landing key.
"""
from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

HERE = Path(__file__).resolve().parent
ROLES: tuple[str, ...] = ("producer", "consumer", "trainer")


def _render(name: str, values: dict[str, str]) -> dict[str, Any]:
    text = (HERE / f"{name}.json").read_text()
    rendered = Template(text).substitute(values)  # KeyError if a placeholder is left unset
    return dict(json.loads(rendered))


def role_policy(role: str, *, account: str, region: str, stream: str, key_id: str, bucket: str) -> dict[str, Any]:
    """The identity policy of one role, with real names filled in."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose from {list(ROLES)}")
    return _render(role, {"ACCOUNT": account, "REGION": region, "STREAM": stream, "KEY_ID": key_id,
                          "BUCKET": bucket})


def bucket_policy(bucket: str, key_arn: str) -> dict[str, Any]:
    """The landing bucket's resource policy: TLS only, SSE-KMS with the landing key only."""
    return _render("bucket", {"BUCKET": bucket, "KEY_ARN": key_arn})
