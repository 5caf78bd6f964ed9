"""The producer/consumer policies deny what they do not grant (moto with IAM enforcement on).

A separate moto is started with INITIAL_NO_AUTH_ACTION_COUNT: the first N
requests (our set-up) run unauthenticated, every later one is checked against
IAM. Fidelity: moto checks Kinesis/KMS by action name only (a statement scoped
to the stream ARN denies even that stream), so for those services the test
widens the Resource to "*" and checks the *actions*; S3 resource scoping works
and is tested as written.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ingestion.aws import iam as policies
from lab.localcloud.aws import FAKE_AWS_ACCESS_KEY_ID, FAKE_AWS_SECRET_ACCESS_KEY, MotoServer

SETUP_CALLS = 8  # create_stream, create_bucket, 2 x (create_user, put_user_policy, create_access_key)
STREAM, BUCKET = "iam-test-stream", "iam-test-bucket"


class EnforcingMoto(MotoServer):
    name = "moto-iam-test"

    def process_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)}


def widen_kinesis_and_kms(doc: dict[str, Any]) -> dict[str, Any]:
    for statement in doc["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if all(a.split(":")[0] in ("kinesis", "kms") for a in actions):
            statement["Resource"] = "*"
            statement.pop("Condition", None)
    return doc


@pytest.fixture(scope="module")
def users() -> Iterator[dict[str, dict[str, Any]]]:
    emulator = EnforcingMoto()
    state = emulator.start()
    try:
        base = {"endpoint_url": state.env["AWS_ENDPOINT_URL"], "region_name": "us-east-1"}
        admin = {**base, "aws_access_key_id": FAKE_AWS_ACCESS_KEY_ID,
                 "aws_secret_access_key": FAKE_AWS_SECRET_ACCESS_KEY}
        boto3.client("kinesis", **admin).create_stream(StreamName=STREAM, ShardCount=1)
        boto3.client("s3", **admin).create_bucket(Bucket=BUCKET)
        iam = boto3.client("iam", **admin)
        creds: dict[str, dict[str, Any]] = {}
        for role in ("producer", "consumer"):
            doc = policies.role_policy(role, account="123456789012", region="us-east-1", stream=STREAM,
                                       key_id="k", bucket=BUCKET)
            iam.create_user(UserName=role)
            iam.put_user_policy(UserName=role, PolicyName=role, PolicyDocument=json.dumps(widen_kinesis_and_kms(doc)))
            key = iam.create_access_key(UserName=role)["AccessKey"]
            creds[role] = {**base, "aws_access_key_id": key["AccessKeyId"],
                           "aws_secret_access_key": key["SecretAccessKey"]}
        yield creds
    finally:
        emulator.stop(state)


def denied(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def test_producer_can_put_and_nothing_else(users: dict[str, dict[str, Any]]) -> None:
    kinesis = boto3.client("kinesis", **users["producer"])
    resp = kinesis.put_records(StreamName=STREAM, Records=[{"Data": b"x", "PartitionKey": "p"}])
    assert resp["FailedRecordCount"] == 0
    assert denied(kinesis.get_shard_iterator, StreamName=STREAM, ShardId="shardId-000000000000",
                  ShardIteratorType="TRIM_HORIZON")
    assert denied(kinesis.delete_stream, StreamName=STREAM)
    assert denied(boto3.client("s3", **users["producer"]).put_object, Bucket=BUCKET, Key="raw/silo=aws/x", Body=b"x")
    assert denied(boto3.client("kms", **users["producer"]).create_key)


def test_consumer_reads_the_stream_and_writes_only_its_prefixes(users: dict[str, dict[str, Any]]) -> None:
    kinesis = boto3.client("kinesis", **users["consumer"])
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    kinesis.get_records(ShardIterator=iterator)
    assert denied(kinesis.put_records, StreamName=STREAM, Records=[{"Data": b"x", "PartitionKey": "p"}])
    s3 = boto3.client("s3", **users["consumer"])
    s3.put_object(Bucket=BUCKET, Key="raw/silo=aws/batch=1.jsonl.env", Body=b"x")
    assert denied(s3.put_object, Bucket=BUCKET, Key="raw/silo=gcp/batch=1.jsonl.env", Body=b"x")
    assert denied(s3.delete_object, Bucket=BUCKET, Key="raw/silo=aws/batch=1.jsonl.env")


def test_unknown_credentials_are_refused(users: dict[str, dict[str, Any]]) -> None:
    stranger = {**users["producer"], "aws_access_key_id": "FAKEEMULATORNOBODY"}
    assert denied(boto3.client("kinesis", **stranger).list_streams)
