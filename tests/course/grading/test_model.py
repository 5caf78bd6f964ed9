"""The grader opens a model file itself: its key from before the run, a tampered file or a swapped key fails."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

pytestmark = pytest.mark.slow  # three interpreters that import torch and the Flower app

WRITE = """
import sys
from pathlib import Path
from securefl import task
from securefl.artifact import write_model
from securefl.provenance import Provenance, new_run_id
from securefl.signing import LocalSigner
provenance = Provenance(run_id=new_run_id(), config_sha256="0" * 64, data_sha256="0" * 64)
write_model(Path(sys.argv[1]) / "fl_global.model", task.get_weights(task.new_model(0)), LocalSigner(), provenance)
"""


def _py(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAB_")} | {"LAB_STATE_DIR": str(state)}
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, text=True, capture_output=True,
                          timeout=900, check=False)


def _open(state: Path, folder: Path, key: str) -> dict:
    proc = _py(state, "-m", "course.grading.helper", "model", "--dir", str(folder), "--public-key", key)
    assert proc.returncode == 0, proc.stderr[-1500:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_signed_sealed_model_opens_and_tampering_or_a_swapped_key_is_caught(tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "fl"
    out.mkdir()
    key = json.loads(_py(state, "-m", "course.grading.helper", "signing-key").stdout.strip().splitlines()[-1])
    assert _py(state, "-c", WRITE, str(out)).returncode == 0
    facts = _open(state, out, key["public_key"])
    assert facts["signed"] and facts["sealed"] and 0 <= facts["accuracy"] <= 1, facts
    model = out / "fl_global.model"
    blob = bytearray(model.read_bytes())
    blob[-10] ^= 1
    model.write_bytes(bytes(blob))
    assert not _open(state, out, key["public_key"])["signed"]
    assert "replaced" in _open(state, out, "00" * 32)["problem"]
