"""parliament (IAM policy linter) finds nothing in the silo's policies."""
from __future__ import annotations

import json

import pytest

from ingestion.aws import iam

parliament = pytest.importorskip("parliament", reason="parliament needs setuptools<81 (pkg_resources)")

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize("role", iam.ROLES)
def test_role_policies_have_no_findings(role: str) -> None:
    doc = iam.role_policy(role, account="123456789012", region="us-east-1",
                               stream="secure-ai-lab-aws-records", key_id=KEY_ID, bucket="lab-bucket")
    findings = parliament.analyze_policy_string(json.dumps(doc)).findings
    assert [(f.issue, f.detail) for f in findings] == []


def test_bucket_policy_has_no_findings() -> None:
    doc = iam.bucket_policy("lab-bucket", f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}")
    findings = parliament.analyze_policy_string(json.dumps(doc), ignore_private_auditors=True).findings
    assert [(f.issue, f.detail) for f in findings] == []


def test_the_linter_does_catch_a_bad_policy() -> None:
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::lab-bucket"}]}
    assert parliament.analyze_policy_string(json.dumps(bad)).findings  # object action on a bucket ARN
