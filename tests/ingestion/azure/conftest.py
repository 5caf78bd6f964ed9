"""Azure silo fixtures: the local Azure cloud for the session, and a provisioned, reset silo per test."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion.azure.ingest import Silo, reset
from ingestion.azure.provision import provision
from lab.localcloud import LocalCloud, local_cloud


@pytest.fixture(scope="session")
def azure_cloud() -> Iterator[LocalCloud]:
    with local_cloud("azure") as cloud:
        yield cloud


@pytest.fixture
def silo(azure_cloud: LocalCloud) -> Silo:
    connected = Silo.connect(provision())
    reset(connected, "digits")
    return connected
