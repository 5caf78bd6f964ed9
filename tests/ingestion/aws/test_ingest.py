"""End to end on moto: a mixed valid/invalid input lands exactly the valid records once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ingestion import samples
from ingestion.aws.ingest import Silo, run_ingest
from ingestion.core import landing
from ingestion.records import UNKNOWN_PRODUCER, TrustStore
from lab.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "ingestion" / "aws" / "kinesis_ingest.py"


def test_mixed_input_lands_valid_once_and_dead_letters_the_rest(silo: Silo) -> None:
    valid = samples.generate_records("aws", 120, seed=21)
    bad = samples.invalid_examples(valid, 20, seed=21)
    lines = samples.mixed_lines(valid, bad, seed=21)
    summary, result = run_ingest(lines, do_reset=True, with_vpc=False, batch_limit=50, show_progress=False)
    assert summary.verified, result.errors
    assert (summary.sent, summary.landed, summary.dead_lettered, summary.duplicates) == (140, 120, 20, 2)
    trust = TrustStore.from_dir()
    landed = [r.id for r in landing.read_batches(silo.store, silo.provider, "aws", "digits", trust)]
    assert sorted(landed) == sorted(r.id for r in valid)
    letters = list(landing.read_deadletters(silo.store, silo.provider, "aws"))
    assert Counter(d.field for d in letters) == Counter(b.field for b in bad)
    assert all(d.reason and d.position.startswith("shardId-") for d in letters)
    assert 0 < summary.kms_calls <= 4  # the data-key cache serves every batch of the run


def test_other_silos_and_untrusted_producers_never_land(silo: Silo) -> None:
    """GCP-signed records sent to Kinesis, and records of a producer nobody enrolled, are dead-lettered."""
    gcp = samples.generate_records("gcp", 3, seed=8)  # gcp-producer-a: enrolled, but for the gcp silo
    stranger = samples.generate_records("aws", 2, seed=8, producer="aws-producer-stranger")
    summary, result = run_ingest([r.to_json().encode() for r in gcp + stranger], do_reset=True, with_vpc=False,
                                 show_progress=False)
    assert summary.verified, result.errors
    assert (summary.landed, summary.dead_lettered) == (0, 5)
    reasons = Counter((d.field, d.reason) for d in landing.read_deadletters(silo.store, silo.provider, "aws"))
    assert reasons == Counter({("silo", "record of silo 'gcp' arrived on the stream of silo 'aws'"): 3,
                               ("producer", UNKNOWN_PRODUCER): 2})


def test_second_run_without_reset_lands_nothing_twice(silo: Silo) -> None:
    lines = [r.to_json().encode() for r in samples.generate_records("aws", 30, seed=5)]
    first, _ = run_ingest(lines, do_reset=True, with_vpc=False, show_progress=False)
    second, result = run_ingest(lines, do_reset=False, with_vpc=False, show_progress=False)
    assert first.landed == 30 and second.landed == 0 and second.duplicates == 30
    assert second.verified and result.records == 30


@pytest.mark.slow
def test_script_by_path(clean_aws: str, tmp_path: Path) -> None:
    env = {**os.environ}
    ok = subprocess.run([sys.executable, str(SCRIPT), "--records", "40", "--with-invalid", "5", "--no-vpc", "--json"],
                        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr[-2000:]
    summary = json.loads(ok.stdout.strip().splitlines()[-1])
    for key in ("sent", "landed", "dead_lettered", "duplicates", "batches", "kms_calls", "verified", "silo"):
        assert key in summary
    assert summary["verified"] is True and summary["landed"] == 40 and summary["dead_lettered"] == 5
    missing = subprocess.run([sys.executable, str(SCRIPT), "--source", str(tmp_path / "nope.jsonl")],
                             capture_output=True, text=True, env=env, timeout=120, check=False)
    assert missing.returncode == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    bad_arg = subprocess.run([sys.executable, str(SCRIPT), "--records", "0"], capture_output=True, text=True,
                             env=env, timeout=120, check=False)
    assert bad_arg.returncode == 2 and "must be >= 1" in bad_arg.stderr
