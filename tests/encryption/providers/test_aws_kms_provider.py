"""AWS KMS provider against a real moto server over HTTP."""
from __future__ import annotations

from typing import Any

import boto3
import pytest

from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import DecryptionFailed, KeyServiceError
from encryption.providers.aws_kms import AwsKmsProvider
from encryption.rotation import enable_key_rotation, rotate_key_on_demand, rotation_status
from lab.localcloud.base import free_port


CONTEXT = {"silo": "aws", "dataset": "train", "batch": "000001"}


def test_generate_uses_kms_with_dataset_context(kms: Any, kms_key: str) -> None:
    provider = AwsKmsProvider(kms_key)
    dk = provider.generate_data_key(CONTEXT)
    assert dk.key_id == kms_key and dk.provider == "aws-kms" and len(dk.plaintext) == 32
    # KMS itself binds the key-service context: silo + dataset, not batch
    opened = kms.decrypt(CiphertextBlob=dk.wrapped, EncryptionContext={"silo": "aws", "dataset": "train"})
    assert opened["Plaintext"] == dk.plaintext
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=dk.wrapped, EncryptionContext=CONTEXT)


def test_alias_resolves_to_arn_in_header(kms: Any, kms_key: str) -> None:
    kms.create_alias(AliasName="alias/envelope-test-alias", TargetKeyId=kms_key)
    provider = AwsKmsProvider("alias/envelope-test-alias")
    blob = bytes(encrypt(b"via alias", provider, CONTEXT))
    assert read_header(blob).key_id == kms_key
    assert decrypt(blob, AwsKmsProvider("alias/envelope-test-alias"), CONTEXT) == b"via alias"


def test_wrong_context_at_the_service_is_decryption_failed(kms_key: str) -> None:
    provider = AwsKmsProvider(kms_key)
    dk = provider.generate_data_key(CONTEXT)
    with pytest.raises(DecryptionFailed, match="InvalidCiphertextException"):
        provider.unwrap_data_key(dk.wrapped, dk.key_id, {"silo": "azure", "dataset": "train"})


def test_strict_provider_refuses_envelopes_of_another_key(kms: Any, kms_key: str) -> None:
    other = str(kms.create_key()["KeyMetadata"]["Arn"])
    blob = bytes(encrypt(b"x", AwsKmsProvider(other), CONTEXT))
    provider = AwsKmsProvider(kms_key)
    with pytest.raises(KeyServiceError, match="configured for"):
        decrypt(blob, provider, CONTEXT)
    assert provider.calls == 0


def test_unknown_key_and_unreachable_service_are_key_service_errors(aws_cloud: object) -> None:
    with pytest.raises(KeyServiceError, match="NotFoundException"):
        AwsKmsProvider("alias/does-not-exist").generate_data_key(CONTEXT)
    dead = boto3.client(
        "kms", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1",
        config=boto3.session.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(KeyServiceError, match="EndpointConnectionError"):
        AwsKmsProvider("arn:aws:kms:us-east-1:123456789012:key/none", client=dead).generate_data_key(CONTEXT)


def test_rotate_on_demand_keeps_old_data_readable(kms: Any, kms_key: str) -> None:
    provider = AwsKmsProvider(kms_key)
    before = bytes(encrypt(b"before rotation", provider, CONTEXT))
    enable_key_rotation(kms, kms_key, period_days=90)
    rotate_key_on_demand(kms, kms_key)
    status = rotation_status(kms, kms_key)
    assert status["enabled"] is True
    assert [r["type"] for r in status["rotations"]] == ["ON_DEMAND"]
    after = bytes(encrypt(b"after rotation", provider, CONTEXT))
    assert read_header(after).key_id == read_header(before).key_id == kms_key
    assert decrypt(before, provider, CONTEXT) == b"before rotation"
    assert decrypt(after, provider, CONTEXT) == b"after rotation"


def test_rotation_period_is_validated(kms: Any, kms_key: str) -> None:
    with pytest.raises(KeyServiceError, match="90..2560"):
        enable_key_rotation(kms, kms_key, period_days=7)
