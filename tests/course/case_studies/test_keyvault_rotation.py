"""Key Vault rotation case study on the real SDK against the Key Vault emulator."""
from __future__ import annotations

import pytest

from course.case_studies import keyvault_rotation

pytestmark = pytest.mark.emulator


def test_early_retirement_breaks_reads_and_rewrap_recovers() -> None:
    result = keyvault_rotation.run(batches=3, per_batch=5)
    assert result.ok, [c for c in result.checks if not c.ok]
    broken, recovered = result.evidence["broken"], result.evidence["recovered"]
    assert broken["failed_batches"] == 3 and broken["records_read"] == 5
    assert "403" in broken["first_error"] and "features" not in broken["first_error"]
    assert recovered["rewrap"]["verified"] and recovered["records_read"] == 20
    assert list(recovered["envelopes_by_key_version"]) == [broken["key_v2"]]
