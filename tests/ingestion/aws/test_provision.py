"""Provisioning creates the controls the lab teaches, and is idempotent."""
from __future__ import annotations

import json

import pytest

from ingestion.aws import iam
from ingestion.aws.clients import client
from ingestion.aws.provision import provision


@pytest.mark.slow  # moto initialises its EC2 backend on the first VPC call (~6 s)
def test_provision_is_idempotent_and_secure(clean_aws: str) -> None:
    first = provision(with_vpc=True)
    again = provision(with_vpc=True)
    assert first == again
    kms, kinesis, s3, ec2 = client("kms"), client("kinesis"), client("s3"), client("ec2")
    assert kms.get_key_rotation_status(KeyId=first.key_id)["KeyRotationEnabled"]
    assert len(kms.list_aliases(KeyId=first.key_id)["Aliases"]) == 1
    summary = kinesis.describe_stream_summary(StreamName=first.stream_name)["StreamDescriptionSummary"]
    assert summary["EncryptionType"] == "KMS" and summary["OpenShardCount"] == 2
    rule = s3.get_bucket_encryption(Bucket=first.bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": first.key_arn}
    block = s3.get_public_access_block(Bucket=first.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert s3.get_bucket_versioning(Bucket=first.bucket)["Status"] == "Enabled"
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [first.vpc_id]}])["VpcEndpoints"]
    kinds = {e["ServiceName"].rsplit(".", 1)[-1]: e["VpcEndpointType"] for e in endpoints}
    assert kinds == {"kinesis-streams": "Interface", "kms": "Interface", "s3": "Gateway"}
    assert len(ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["secure-ai-lab-aws-vpc"]}])["Vpcs"]) == 1


def test_objects_land_with_sse_kms_under_the_landing_key(silo) -> None:  # type: ignore[no-untyped-def]
    silo.store.put("raw/silo=aws/probe", b"x")
    head = client("s3").head_object(Bucket=silo.resources.bucket, Key="raw/silo=aws/probe")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == silo.resources.key_arn
    assert silo.store.exists("raw/silo=aws/probe") and not silo.store.exists("raw/silo=aws/none")
    with pytest.raises(KeyError):
        silo.store.get("raw/silo=aws/none")


def test_policies_render_with_real_names_and_no_wildcards() -> None:
    for role in iam.ROLES:
        doc = iam.role_policy(role, account="123456789012", region="eu-west-1", stream="st",
                                   key_id="k-1", bucket="bk")
        text = json.dumps(doc)
        assert "${" not in text and '"*"' not in text and "kinesis:*" not in text and "s3:*" not in text
        assert all(s["Effect"] == "Allow" for s in doc["Statement"])
    with pytest.raises(ValueError):
        iam.role_policy("admin", account="1", region="r", stream="s", key_id="k", bucket="b")
    bucket = iam.bucket_policy("bk", "arn:aws:kms:eu-west-1:123456789012:key/k-1")
    assert {s["Sid"] for s in bucket["Statement"]} == {
        "DenyInsecureTransport", "DenyUploadsNotSseKms", "DenyUploadsUnderAnotherKey"}
