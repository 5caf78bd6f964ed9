"""Core tests run offline: a LocalDirStore and the local key provider (no emulator needed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from encryption.providers.local import LocalKeyProvider, create_key_file
from ingestion import samples
from lab.storage import LocalDirStore
from ingestion.records import Record, TrustStore


@pytest.fixture
def store(tmp_path: Path) -> LocalDirStore:
    return LocalDirStore(tmp_path / "landing")


@pytest.fixture
def provider(tmp_path: Path) -> LocalKeyProvider:
    path = tmp_path / "kek.json"
    create_key_file(path)
    return LocalKeyProvider(path)


@pytest.fixture(scope="session")
def records() -> list[Record]:
    return samples.generate_records("aws", 40, seed=11)


@pytest.fixture
def trust() -> TrustStore:
    return TrustStore.from_dir()
