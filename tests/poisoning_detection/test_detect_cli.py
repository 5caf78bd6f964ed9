"""The CLI by path: --help, clear errors, and (slow) a full run on digits with plots and remediation."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab.paths import REPO_ROOT
from poisoning_detection import attack, data

SCRIPT = REPO_ROOT / "poisoning-detection" / "detect.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_help_and_bad_arguments() -> None:
    assert run("--help").returncode == 0
    missing = run("--data", "/nonexistent.npz", "--out", "/tmp/x.json")
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    assert run("--epochs", "0", "--data", "a", "--out", "b").returncode == 2


def test_remediate_without_test_set_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.random.default_rng(0).random((60, 64)).astype(np.float32), y=np.repeat([0, 1], 30))
    proc = run("--data", str(path), "--out", str(tmp_path / "r.json"), "--remediate")
    assert proc.returncode == 1 and "--test" in proc.stderr


@pytest.mark.slow
def test_full_run_on_flat_digits_records(tmp_path: Path) -> None:
    x, y = data.digits()
    xtr, xte, ytr, yte = data.split(x.reshape(len(x), 64), y, 0.2, 1)
    xp, yp, truth = attack.add_backdoor(xtr, ytr, 0.2, source=0, target=1, seed=1)
    ids = np.array([f"rec-{i}" for i in range(len(yp))])
    np.savez(tmp_path / "train.npz", x=xp, y=yp, ids=ids,
             producers=np.where(truth, "producer-x", "producer-ok"))
    np.savez(tmp_path / "test.npz", x=xte, y=yte)
    out = tmp_path / "report.json"
    proc = run("--data", str(tmp_path / "train.npz"), "--out", str(out), "--plots", str(tmp_path / "plots"),
               "--remediate", "--test", str(tmp_path / "test.npz"), "--source", "0", "--target", "1", "--quiet",
               "--save-model", str(tmp_path / "m.pt"))
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(out.read_text())
    flagged = set(rep["flagged"])
    assert len(flagged & set(ids[truth])) >= 0.8 * truth.sum()
    assert rep["compromised_producers"] == ["producer-x"]
    assert rep["remediation"]["attack_success_after"] <= 0.1
    assert (tmp_path / "plots" / "score_histograms.png").is_file()
    assert (tmp_path / "plots" / "class_1_projection.png").is_file()
    # a saved model is reused: no training, same verdict
    again = tmp_path / "again.json"
    proc = run("--data", str(tmp_path / "train.npz"), "--out", str(again), "--model", str(tmp_path / "m.pt"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(again.read_text())["flagged"] == rep["flagged"]
