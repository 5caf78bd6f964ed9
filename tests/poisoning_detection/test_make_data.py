"""make_data.py writes a practice set the detector accepts, with the truth alongside, and refuses bad
arguments in one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab.paths import REPO_ROOT
from poisoning_detection import data

SCRIPT = REPO_ROOT / "poisoning-detection" / "make_data.py"


def test_writes_a_backdoored_set_and_its_clean_test_split(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "t" / "train.npz"),
                           "--dataset", "digits", "--case", "src", "--rate", "0.2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "detect.py --data" in proc.stderr and "--source 0 --target 1" in proc.stderr
    with np.load(tmp_path / "t" / "train.npz") as npz:
        x, y, ids, truth = npz["x"], npz["y"], npz["ids"], npz["poisoned"]
    assert truth.sum() > 0 and (y[truth] == 1).all() and len(set(ids)) == len(ids) == len(y)
    ds = data.load_npz(tmp_path / "t" / "train.npz")  # the detector's own loader accepts it
    assert len(ds) == len(y) and ds.ids is not None
    test = data.load_npz(tmp_path / "t" / "test.npz")
    assert len(test) + len(y) == 1797  # the whole of sklearn digits, split


@pytest.mark.parametrize("args", [["--rate", "0"], ["--rate", "1.5"], ["--case", "nope"], []])
def test_bad_arguments_exit_2_in_one_line(args: list[str], tmp_path: Path) -> None:
    out = [] if not args else ["--out", str(tmp_path / "x.npz")]
    proc = subprocess.run([sys.executable, str(SCRIPT), *out, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.npz").exists()


def test_offers_every_image_family_of_the_harness() -> None:
    import importlib.util

    from poisoning_detection import harness

    spec = importlib.util.spec_from_file_location("make_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.CASES) == {name for name, case in harness.KINDS.items() if case.applies(tabular=False)}


def test_a_blended_set_is_written_and_offered_without_the_patch_remediation(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "train.npz"),
                           "--dataset", "digits", "--case", "blend", "--rate", "0.1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "detect.py --data" in proc.stderr and "--remediate" not in proc.stderr
    with np.load(tmp_path / "train.npz") as npz:
        assert npz["poisoned"].sum() > 0 and (npz["y"][npz["poisoned"]] == 1).all()
