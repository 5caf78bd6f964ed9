"""Records -> arrays (one conversion) and the quarantine list (one place, bound to its landing)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ingestion.arrays import RecordArrays
from ingestion.quarantine import Quarantine, landing_digest, load_quarantine, quarantine_path, write_quarantine
from ingestion.samples import generate_records
from lab.cli import LabError


def test_rows_stay_aligned_and_without_drops_by_id() -> None:
    records = generate_records("azure", 6, seed=3)
    arrays = RecordArrays.of(records)
    assert arrays.x.shape == (6, 64) and arrays.x.dtype == np.float32 and len(arrays) == 6
    assert list(arrays.ids) == [r.id for r in records] and list(arrays.y) == [r.label for r in records]
    assert set(arrays.producers) == {"azure-producer-a"}
    kept = arrays.without({records[1].id, "not-there"})
    assert len(kept) == 5 and records[1].id not in kept.ids
    assert np.array_equal(kept.x[1], arrays.x[2])  # the rows after the dropped one moved up together
    assert len(RecordArrays.of([])) == 0


def test_quarantine_round_trip_and_location(lab_state_dir) -> None:  # type: ignore[no-untyped-def]
    digest = landing_digest(["b", "a"])
    assert digest == landing_digest(["a", "b"]) != landing_digest(["a"])
    path = write_quarantine(Quarantine("aws", "digits", digest, {"a": "aws-producer-b"}, "scan.json"))
    assert path == quarantine_path("aws", "digits") and path.is_relative_to(lab_state_dir)
    saved = json.loads(path.read_text())
    assert saved["producers"] == ["aws-producer-b"] and saved["count"] == 1
    loaded = load_quarantine("aws", "digits")
    assert loaded is not None and loaded.ids == {"a"} and loaded.landing == digest
    assert load_quarantine("gcp", "never-scanned") is None  # a dataset no scan wrote a list for
    path.write_text("{not json")
    with pytest.raises(LabError, match="damaged.*--landing aws"):
        load_quarantine("aws", "digits")
    path.unlink()


def test_quarantine_path_refuses_unsafe_names() -> None:
    with pytest.raises(ValueError):
        quarantine_path("aws", "../x")
    with pytest.raises(ValueError, match="unknown silo"):
        quarantine_path("ibm", "digits")
