"""Create (or find) the AWS silo's resources; safe to run any number of times.

* KMS key (symmetric, automatic rotation on) + alias;
* Kinesis stream, 2 shards, server-side encryption with that key;
* S3 landing bucket: default SSE-KMS with that key (bucket key on), all public
  access blocked, versioning on; in real AWS also the TLS-only / SSE-KMS-only
  bucket policy from ``policies/bucket.json`` (moto over-denies such policies);
* VPC with interface endpoints (kinesis-streams, kms) and a gateway endpoint
  (s3), so a consumer inside it never crosses the public internet.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from ingestion.aws import policies
from ingestion.aws.clients import client
from lab.cli import LabError
from lab.config import settings

STREAM_SHARDS = 2
VPC_CIDR = "10.42.0.0/16"
SUBNET_CIDR = "10.42.1.0/24"
KEY_ROTATION_DAYS = 365  # AWS's default period, stated so the status reads it back (infra/aws sets the same)


@dataclass(frozen=True)
class AwsResources:
    """Names and ARNs the producer, consumer and policies need."""

    region: str
    account: str
    key_id: str
    key_arn: str
    key_alias: str
    stream_name: str
    stream_arn: str
    bucket: str
    vpc_id: str
    endpoints: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def names(account: str) -> dict[str, str]:
    prefix = settings().name_prefix
    return {
        "alias": f"alias/{prefix}-aws-landing",
        "stream": f"{prefix}-aws-records",
        "bucket": f"{prefix}-aws-landing-{account}-{settings().aws_region}",
        "vpc": f"{prefix}-aws-vpc",
    }


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def ensure_key(kms: Any, alias: str) -> tuple[str, str]:
    """The key behind alias (created with rotation on if missing); returns (key id, arn)."""
    try:
        meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise
        meta = kms.create_key(
            Description="Secure AI lab: AWS silo landing + stream encryption",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=[{"TagKey": "project", "TagValue": settings().name_prefix}],
        )["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    if kms.get_key_rotation_status(KeyId=meta["KeyId"]).get("RotationPeriodInDays") != KEY_ROTATION_DAYS:
        kms.enable_key_rotation(KeyId=meta["KeyId"], RotationPeriodInDays=KEY_ROTATION_DAYS)
    return str(meta["KeyId"]), str(meta["Arn"])


def ensure_stream(kinesis: Any, name: str, key_arn: str, shards: int = STREAM_SHARDS) -> str:
    """The stream (created if missing), with KMS server-side encryption on; returns its ARN."""
    try:
        kinesis.create_stream(StreamName=name, ShardCount=shards)
    except ClientError as exc:
        if _code(exc) != "ResourceInUseException":
            raise
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    if summary.get("EncryptionType") != "KMS":
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key_arn)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return str(summary["StreamARN"])


def ensure_bucket(s3: Any, bucket: str, key_arn: str, real: bool) -> None:
    """The landing bucket with default SSE-KMS, no public access and versioning."""
    try:
        region = settings().aws_region
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **extra)
    except ClientError as exc:
        if _code(exc) not in ("BucketAlreadyOwnedByYou",):
            raise
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                "BucketKeyEnabled": True,
            }]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if real:  # moto over-denies Condition policies (see docs fidelity table): real AWS only
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policies.bucket_policy(bucket, key_arn)))


def _find_one(items: list[dict[str, Any]], key: str) -> str | None:
    return str(items[0][key]) if items else None


def ensure_vpc(ec2: Any, name: str, region: str) -> tuple[str, dict[str, str]]:
    """VPC + subnet + route table with kinesis-streams/kms interface and s3 gateway endpoints."""
    tag = [{"Name": "tag:Name", "Values": [name]}]
    vpc_id = _find_one(ec2.describe_vpcs(Filters=tag)["Vpcs"], "VpcId")
    if vpc_id is None:
        vpc_id = ec2.create_vpc(
            CidrBlock=VPC_CIDR,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}],
        )["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnet_id = _find_one(ec2.describe_subnets(Filters=in_vpc)["Subnets"], "SubnetId")
    if subnet_id is None:
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=SUBNET_CIDR)["Subnet"]["SubnetId"]
    route_tables = ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
    route_table_id = _find_one(route_tables, "RouteTableId")
    if route_table_id is None:
        route_table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    endpoints: dict[str, str] = {}
    for service, kind in (("kinesis-streams", "Interface"), ("kms", "Interface"), ("s3", "Gateway")):
        service_name = f"com.amazonaws.{region}.{service}"
        found = ec2.describe_vpc_endpoints(
            Filters=in_vpc + [{"Name": "service-name", "Values": [service_name]}]
        )["VpcEndpoints"]
        endpoint_id = _find_one([e for e in found if e.get("State") != "deleted"], "VpcEndpointId")
        if endpoint_id is None:
            params: dict[str, Any] = {"VpcId": vpc_id, "ServiceName": service_name, "VpcEndpointType": kind}
            if kind == "Interface":
                params.update(SubnetIds=[subnet_id], PrivateDnsEnabled=True)
            else:
                params.update(RouteTableIds=[route_table_id])
            endpoint_id = ec2.create_vpc_endpoint(**params)["VpcEndpoint"]["VpcEndpointId"]
        endpoints[service] = str(endpoint_id)
    return str(vpc_id), endpoints


def provision(with_vpc: bool = True) -> AwsResources:
    """Create or find every resource of the AWS silo (idempotent)."""
    cfg = settings()
    real = cfg.aws_mode == "real"
    try:
        account = str(client("sts").get_caller_identity()["Account"])
        n = names(account)
        key_id, key_arn = ensure_key(client("kms"), n["alias"])
        stream_arn = ensure_stream(client("kinesis"), n["stream"], key_arn)
        ensure_bucket(client("s3"), n["bucket"], key_arn, real)
        vpc_id, endpoints = ensure_vpc(client("ec2"), n["vpc"], cfg.aws_region) if with_vpc else ("", {})
    except ClientError as exc:
        raise LabError(f"provisioning the AWS silo failed: {_code(exc)} ({exc.operation_name})") from None
    return AwsResources(
        region=cfg.aws_region, account=account, key_id=key_id, key_arn=key_arn, key_alias=n["alias"],
        stream_name=n["stream"], stream_arn=stream_arn, bucket=n["bucket"], vpc_id=vpc_id, endpoints=endpoints,
    )

