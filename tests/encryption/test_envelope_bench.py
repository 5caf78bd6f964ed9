"""The benchmark function other benchmarks import: shape and honesty, not speed."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from encryption.bench import envelope_vs_aesgcm
from lab.paths import REPO_ROOT


def test_bench_reports_measured_figures() -> None:
    result = envelope_vs_aesgcm(size_mib=2, repeats=1)
    assert result["size_mib"] == 2 and result["key_service_calls"] == 1
    assert result["bare_aesgcm_encrypt_mb_s"] > 0 and result["envelope_encrypt_mb_s"] > 0
    assert result["target_met"] == (result["envelope_over_bare"] >= 0.9)
    assert 200 < result["envelope_overhead_bytes"] < 1000


def test_bench_script_prints_json_last_and_rejects_bad_input() -> None:
    done = subprocess.run([sys.executable, str(REPO_ROOT / "encryption" / "bench.py"), "--size-mib", "1",
                           "--repeats", "1"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["size_mib"] == 1
    bad = subprocess.run([sys.executable, str(REPO_ROOT / "encryption" / "bench.py"), "--size-mib", "0"],
                         capture_output=True, timeout=60)
    assert bad.returncode == 2
    with pytest.raises(ValueError):
        envelope_vs_aesgcm(size_mib=0)
