"""Fixtures for the envelope tests: KMS keys on the session's moto server, local key files."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from encryption.providers.aws_kms import AwsKmsProvider, kms_client
from encryption.providers.base import KeyProvider
from encryption.providers.local import LocalKeyProvider, create_key_file
from lab.localcloud import LocalCloud



@pytest.fixture
def kms(aws_cloud: LocalCloud) -> Any:
    """A KMS client for the session's moto (the shared `aws_cloud` fixture in tests/conftest.py)."""
    return kms_client()


@pytest.fixture
def kms_key(kms: Any) -> str:
    """A fresh symmetric KMS key ARN (moto keeps keys in memory; one per test keeps tests apart)."""
    return str(kms.create_key(Description="envelope test key")["KeyMetadata"]["Arn"])


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "kek.json"
    create_key_file(path)
    return path


@pytest.fixture
def local_provider(key_file: Path) -> LocalKeyProvider:
    return LocalKeyProvider(key_file)


@pytest.fixture(params=["local", "aws"])
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> KeyProvider:
    """Each key service the core ships, against its real backend (key file / moto KMS)."""
    if request.param == "local":
        path = tmp_path / "kek.json"
        create_key_file(path)
        return LocalKeyProvider(path)
    arn = request.getfixturevalue("kms_key")
    return AwsKmsProvider(arn)
