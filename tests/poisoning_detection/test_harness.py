"""The evaluation harness on a small slice (digits, one seed): the side-by-side table has every
method, the remediation table compares means over several retrains with a clean model trained
with the same seeds, and the bench script rejects bad arguments in one line."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lab.paths import REPO_ROOT
from poisoning_detection import harness

BENCH = REPO_ROOT / "poisoning-detection" / "bench.py"


@pytest.fixture(scope="module")
def rows() -> list[harness.Row]:
    return harness.run(["digits"], [0], True, cases=[("src", 0.1), ("clean", 0.0)], log=lambda _: None,
                       retrains=2)


def test_every_method_is_measured_side_by_side(rows) -> None:
    methods = {r.method for r in rows if r.case == "src"}
    assert methods == {"activation_clustering", "look_alike", "spectral_signatures", "loss", "gradient", "fused",
                       "art_activation_clustering", "art_spectral_signatures"}
    fused = next(r for r in rows if r.method == "fused" and r.case == "src")
    assert fused.f1 >= 0.9 and fused.auc is not None and fused.auc > 0.9
    table = harness.table(rows)
    assert table.count("| digits | src | 0.10 |") == len(methods)


def test_remediation_averages_the_retrains(rows) -> None:
    e = next(r for r in rows if r.method == "fused" and r.case == "src").extra
    assert e["retrains"] == 2 and len(e["clean_accuracy_after_runs"]) == 2
    assert np.isclose(e["clean_accuracy_after"], np.mean(e["clean_accuracy_after_runs"]), atol=1e-4)
    assert e["attack_success_after_worst"] >= e["attack_success_after"]
    assert e["attack_success_before"] > 0.5 and e["attack_success_after"] <= 0.1
    assert 0.9 <= e["clean_model_accuracy"] <= 1.0 and 0 <= e["clean_model_attack_success"] < 0.1
    line = next(ln for ln in harness.remediation_table(rows).splitlines() if ln.startswith("| digits | src"))
    gap = 100 * (e["clean_accuracy_after"] - e["clean_model_accuracy"])
    assert f"| 2 | {e['clean_model_accuracy']:.3f} |" in line and f"| {gap:+.1f} |" in line
    assert f"| {e['clean_model_attack_success']:.3f} | {e['risk_score']:.2f} |" in line
    assert "digits seed 0: risk 0.00" in harness.remediation_table(rows)


@pytest.mark.parametrize("args", [["--retrains", "0"], ["--cases", "nope:0.1"], ["--datasets", "cifar"],
                                  ["--cases", "src:2"], ["--cases", "src"], ["--seeds", "-1"],
                                  ["--datasets", "mnist", "--cases", "feature:0.1"]])
def test_bench_rejects_bad_arguments(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.strip()


def test_risk_table_shows_the_fused_verdict_per_set(rows) -> None:
    table = harness.risk_table(rows)
    src = next(ln for ln in table.splitlines() if ln.startswith("| digits | src | 0.10 |"))
    clean = next(ln for ln in table.splitlines() if ln.startswith("| digits | clean |"))
    assert "| 1 |" in src and float(src.split("|")[5]) >= 0.5  # risk min of the poisoned set
    assert float(clean.split("|")[6]) < 0.2  # risk max of the clean set
