"""End-to-end simulations (Ray): SecAgg+ with a client dropping out, and robust mode under attack.

Each simulation costs ~30-40 s of Ray start-up on 2 cores, so each runs once per module
and several assertions share it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from securefl import data
from securefl.run import RunResult, run_simulation
from securefl.task import load_model

pytestmark = pytest.mark.slow
SMALL = {"num-clients": 5, "num-server-rounds": 2, "local-epochs": 2, "num-shares": 3,
         "reconstruction-threshold": 2}


@pytest.fixture(scope="module")
def secure_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    out = tmp_path_factory.mktemp("secure")
    return run_simulation({**SMALL, "drop-client": 3, "noise-multiplier": 0.01, "out-dir": str(out)})


def test_secagg_survives_a_dropped_client(secure_run: RunResult) -> None:
    s = secure_run.summary
    assert s["ok"], s["problems"]
    assert s["secagg"] and s["clients_per_round"] == [4, 4]
    assert [r["clients"] for r in s["rounds"]] == [[0, 1, 2, 4]] * 2
    assert s["final_accuracy"] > s["initial_accuracy"] + 0.3


def test_epsilon_is_reported_every_round_with_its_assumptions(secure_run: RunResult) -> None:
    s = secure_run.summary
    eps = [r["epsilon"] for r in s["rounds"]]
    assert all(e is not None and e > 0 for e in eps) and eps[1] > eps[0] == pytest.approx(eps[0])
    assert s["delta"] == 1e-5 and "client-level" in s["dp_settings"]["assumptions"]
    # 4 of 5 clients aggregated: the noise was scaled for 5, so the effective multiplier is 4/5 of it
    assert s["rounds"][0]["effective_noise_multiplier"] == pytest.approx(0.01 * 4 / 5)


def test_outputs_written_and_model_verifies(secure_run: RunResult) -> None:
    path = secure_run.model_path
    assert path is not None and path.is_file()
    report: dict[str, Any] = json.loads((path.parent / "fl_run.json").read_text())
    for key in ("rounds", "epsilon", "delta", "secagg", "dp_settings", "clients_per_round", "flagged_clients",
                "seconds_per_round"):
        assert key in report
    assert (path.parent / "fl_run.png").stat().st_size > 1000
    model = load_model(path)
    test = data.test_set()
    acc = float(np.mean(model.predict(test.x) == test.y))
    assert acc == pytest.approx(secure_run.final_accuracy, abs=1e-9)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    Path(path).write_bytes(bytes(raw))
    with pytest.raises(Exception, match="tampered"):
        load_model(path)


def test_robust_mode_flags_and_drops_a_sign_flip_attacker(tmp_path: Path) -> None:
    result = run_simulation({**SMALL, "secagg": False, "dp": False, "mode": "robust", "robust-method": "cosine",
                             "attack": "sign-flip", "attackers": 1, "out-dir": str(tmp_path)})
    s = result.summary
    assert s["ok"], s["problems"]
    assert s["flagged_clients"] == [0]
    assert all(r["flagged"] == [0] for r in s["rounds"])
    assert s["final_accuracy"] > 0.8
