"""infra/aws names the resources, key settings and policies that ingestion/aws/provision.py uses."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingestion.aws import policies, provision
from lab.config import LabSettings, settings

from .hcl import Module, module

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def aws() -> Module:
    mod = module("aws")
    assert mod.variables["name_prefix"] == LabSettings.model_fields["name_prefix"].default
    assert mod.variables["region"] == LabSettings.model_fields["aws_region"].default
    mod.variables.update(name_prefix=settings().name_prefix, region=settings().aws_region)
    return mod


def name(aws: Module, local: str) -> str:
    return str(aws.resolve(aws.locals[local], {"data.aws_caller_identity.current.account_id": ACCOUNT}))


def test_resource_names_match_the_provisioning_code(aws: Module) -> None:
    expected = provision.names(ACCOUNT)
    assert {"alias": name(aws, "key_alias"), "stream": name(aws, "stream"), "bucket": name(aws, "bucket"),
            "vpc": name(aws, "vpc_name")} == expected
    assert aws.resource("aws_kms_alias", "landing")["name"] == "${local.key_alias}"
    assert aws.resource("aws_kinesis_stream", "records")["name"] == "${local.stream}"
    assert aws.resource("aws_s3_bucket", "landing")["bucket"] == "${local.bucket}"
    assert aws.resource("aws_vpc", "silo")["tags"] == {"Name": "${local.vpc_name}"}
    assert (aws.locals["vpc_cidr"], aws.locals["subnet_cidr"]) == (provision.VPC_CIDR, provision.SUBNET_CIDR)


def test_key_rotates_on_the_local_silo_schedule(aws: Module) -> None:
    key = aws.resource("aws_kms_key", "landing")
    assert key["enable_key_rotation"] is True
    assert key["rotation_period_in_days"] == "${local.key_rotation_days}"
    assert aws.locals["key_rotation_days"] == provision.KEY_ROTATION_DAYS


def test_stream_and_bucket_are_encrypted_under_the_silo_key(aws: Module) -> None:
    stream = aws.resource("aws_kinesis_stream", "records")
    assert (stream["encryption_type"], stream["kms_key_id"]) == ("KMS", "${aws_kms_key.landing.arn}")
    assert stream["shard_count"] == provision.STREAM_SHARDS
    rule = aws.resource("aws_s3_bucket_server_side_encryption_configuration", "landing")["rule"][0]
    default = rule["apply_server_side_encryption_by_default"][0]
    assert (default["sse_algorithm"], default["kms_master_key_id"]) == ("aws:kms", "${aws_kms_key.landing.arn}")
    block = aws.resource("aws_s3_bucket_public_access_block", "landing")
    assert all(block[k] is True for k in ("block_public_acls", "ignore_public_acls", "block_public_policy",
                                          "restrict_public_buckets"))


def test_policies_are_the_files_the_code_lints(aws: Module) -> None:
    bucket_policy = aws.resource("aws_s3_bucket_policy", "landing")["policy"]
    assert 'templatefile("${local.policy_dir}/bucket.json"' in bucket_policy
    role_policy = aws.resource("aws_iam_role_policy", "silo")
    assert 'templatefile("${local.policy_dir}/${each.key}.json"' in role_policy["policy"]
    assert aws.locals["roles"] == "${toset([" + ", ".join(f'"{r}"' for r in policies.ROLES) + "])}"
    policy_dir = str(aws.locals["policy_dir"]).replace("${path.module}", str(aws.path))
    assert Path(policy_dir).resolve() == policies.HERE
    # every ${PLACEHOLDER} of every template is given a value by the Terraform
    given = set(re.findall(r"(\w+) = ", role_policy["policy"]))
    for role in policies.ROLES:
        wanted = set(re.findall(r"\$\{(\w+)\}", (policies.HERE / f"{role}.json").read_text()))
        assert wanted <= given, (role, wanted - given)


def test_private_endpoints_match_the_local_vpc(aws: Module) -> None:
    assert aws.locals["interface_services"] == '${toset(["kinesis-streams", "kms"])}'
    for endpoint in ("interface", "s3"):
        assert "policy" in aws.resource("aws_vpc_endpoint", endpoint), f"{endpoint} endpoint has no policy"
    assert aws.resource("aws_vpc_endpoint", "s3")["vpc_endpoint_type"] == "Gateway"
    assert set(aws.locals["endpoint_grants"]) == {"kinesis-streams", "kms", "s3"}
