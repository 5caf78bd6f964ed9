"""S3 as an ingestion.core ObjectStore (real boto3 S3 API; moto locally).

Every put names SSE-KMS and the landing key explicitly, so it satisfies the
bucket policy that denies any other upload in real AWS (iam/bucket.json).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from ingestion.aws.clients import client
from lab.storage import check_key


class S3Store:
    """ObjectStore over one bucket (optionally under a key prefix)."""

    def __init__(self, bucket: str, kms_key_arn: str | None, s3: Any | None = None) -> None:
        """``kms_key_arn=None``: puts name no SSE — only the benchmark's plain baseline does that."""
        self.bucket = bucket
        self.kms_key_arn = kms_key_arn
        self.s3 = s3 or client("s3")

    def put(self, key: str, data: bytes) -> None:
        if self.kms_key_arn is None:
            self.s3.put_object(Bucket=self.bucket, Key=check_key(key), Body=data)
            return
        self.s3.put_object(
            Bucket=self.bucket, Key=check_key(key), Body=data,
            ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_arn, BucketKeyEnabled=True,
        )

    def get(self, key: str) -> bytes:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        yield from sorted(keys)

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete_prefix(self, prefix: str) -> int:
        """Delete every version of every object under prefix (the bucket is versioned). Returns count."""
        deleted = 0
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if items:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": items, "Quiet": True})
                deleted += len(items)
        return deleted
