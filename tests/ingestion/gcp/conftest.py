"""Shared fixtures: the GCP emulators once per session, unique resource names per test."""
from __future__ import annotations

import uuid

import pytest

from ingestion.gcp.clients import GcpNames
from ingestion.gcp.ingest import GcpSilo
from lab.config import settings


@pytest.fixture(scope="session")
def gcp_cloud():
    from lab.localcloud import local_cloud

    with local_cloud("gcp") as cloud:
        yield cloud


@pytest.fixture()
def names(gcp_cloud) -> GcpNames:
    cfg = settings()
    return GcpNames(project=cfg.gcp_project, location=cfg.gcp_location, prefix=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture()
def silo(names) -> GcpSilo:
    silo = GcpSilo.connect(names)
    silo.provision()
    return silo
