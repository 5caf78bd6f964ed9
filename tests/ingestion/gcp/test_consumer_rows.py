"""BigQuery rows of accepted records, batch ids, and the step script's command line."""
from __future__ import annotations

import subprocess
import sys

from ingestion.core.validate import Accepted, Validator
from ingestion.gcp.consumer import batch_id_for, to_row
from ingestion.records import TrustStore
from ingestion.samples import generate_records
from lab.paths import REPO_ROOT


def test_a_row_is_the_accepted_record_with_its_batch_id():
    trust = TrustStore.from_dir()
    record = generate_records("gcp", 1)[0]
    accepted = Validator(trust, silo="gcp").check(record.to_json().encode(), "m-1")
    assert isinstance(accepted, Accepted)
    row = to_row(accepted, "b1")
    assert row == {**record.model_dump(), "batch_id": "b1"}
    assert all(type(v) is float for v in row["features"]) and type(row["label"]) is int  # the table's types


def test_batch_id_is_deterministic_and_order_free():
    assert batch_id_for(["3", "1", "2"]) == batch_id_for(["1", "2", "3"])
    assert batch_id_for(["1", "2"]) != batch_id_for(["1", "2", "3"])


def test_script_help_and_bad_argument():
    script = REPO_ROOT / "ingestion" / "gcp" / "pubsub_ingest.py"
    ok = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "--records" in ok.stdout
    bad = subprocess.run([sys.executable, str(script), "--records", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "must be between 1 and" in bad.stderr
