"""AWS silo fixtures: a freshly reset moto with the silo provisioned (no VPC: that has its own test)."""
from __future__ import annotations

import pytest

from ingestion.aws.ingest import Silo
from ingestion.aws.provision import provision


@pytest.fixture
def silo(clean_aws: str) -> Silo:
    return Silo.connect(provision(with_vpc=False))
