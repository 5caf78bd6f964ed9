"""Row validation before BigQuery insert, batch ids, and the step script's command line."""
from __future__ import annotations

import subprocess
import sys

import pytest

from ingestion.gcp.consumer import LandingError, batch_id_for, to_row, validate_row
from ingestion.samples import generate_records
from lab.paths import REPO_ROOT


def test_rows_from_records_pass_and_bad_types_fail():
    record = generate_records("gcp", 1)[0]
    row = to_row(record, "b1")
    assert row["batch_id"] == "b1" and row["id"] == record.id
    for field, bad in (("label", "7"), ("features", [1.0, float("nan")]), ("id", ""), ("timestamp", None)):
        with pytest.raises(LandingError, match=field):
            validate_row({**row, field: bad})


def test_batch_id_is_deterministic_and_order_free():
    assert batch_id_for(["3", "1", "2"]) == batch_id_for(["1", "2", "3"])
    assert batch_id_for(["1", "2"]) != batch_id_for(["1", "2", "3"])


def test_script_help_and_bad_argument():
    script = REPO_ROOT / "ingestion" / "gcp" / "pubsub_ingest.py"
    ok = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "--records" in ok.stdout
    bad = subprocess.run([sys.executable, str(script), "--records", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "must be between 1 and" in bad.stderr
