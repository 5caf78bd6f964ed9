"""ingestion.silos is a registry: every silo's Adapter honours the shared contract."""
from __future__ import annotations

import pytest

from ingestion import silos
from ingestion.core.run import SiloAdapter
from ingestion.records import SILOS


@pytest.mark.parametrize("silo", SILOS)
def test_every_silo_has_an_adapter_with_the_contract(silo: str) -> None:
    adapter = silos.adapter(silo)
    assert adapter.silo == silo and 1 <= adapter.default_batch_size <= adapter.max_batch_size
    for name in SiloAdapter.__dict__:  # every method and property the protocol names
        if not name.startswith("_"):
            assert hasattr(type(adapter), name), f"{silo} Adapter lacks {name}"


def test_unknown_silo_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown silo 'oci'"):
        silos.adapter("oci")
    with pytest.raises(ValueError, match="unknown silo"):
        silos.landing("oci")
