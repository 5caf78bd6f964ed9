"""End-to-end simulations (in-process runtime; one against Flower's Ray engine): the default
(SecAgg+ with DP-SGD noise on every client), SecAgg+ with a client dropping out, robust mode
under attack. Each run is shared by several assertions.
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
    # client-level DP with almost no noise: the mechanism, explicitly allowed as weak privacy
    return run_simulation({**SMALL, "drop-client": 3, "dp-level": "client", "noise-multiplier": 0.01,
                           "allow-weak-privacy": True, "out-dir": str(out)})


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
    assert s["noise_on"] == "server" and not s["privacy_guarantee"]["meaningful"]
    assert "no meaningful privacy guarantee" in s["privacy_guarantee"]["label"]
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


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    out = tmp_path_factory.mktemp("default")
    return run_simulation({**SMALL, "local-epochs": 1, "out-dir": str(out)})


def test_default_adds_the_noise_on_the_clients_with_an_accountant(default_run: RunResult) -> None:
    s = default_run.summary
    assert s["ok"], s["problems"]
    assert s["secagg"] and s["privacy_level"] == "record" and s["noise_on"] == "client"
    assert s["accountant"].startswith("Opacus RDP") and s["delta"] <= 1e-5
    per_client = s["epsilon_per_client"]
    assert sorted(per_client) == ["0", "1", "2", "3", "4"]
    assert 7.9 <= s["epsilon"] == max(per_client.values()) <= 8.0
    assert s["privacy_guarantee"]["meaningful"] and "8.00" in s["privacy_guarantee"]["label"]
    report = json.loads((Path(default_run.model_path).parent / "fl_run.json").read_text())
    assert (report["epsilon"], report["noise_on"], report["accountant"]) == (s["epsilon"], "client", s["accountant"])


def test_flower_logs_go_to_the_run_log_not_the_console(default_run: RunResult,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    log = Path(default_run.summary["log"]).read_text()
    assert "flwr" in log  # Flower's own lines were captured there
    run_simulation({**SMALL, "num-server-rounds": 1, "local-epochs": 1,
                    "out-dir": str(Path(default_run.summary["log"]).parent / "again")})
    out, err = capfd.readouterr()
    for noise in ("DEPRECATED", "fit_metrics_aggregation_fn", "FutureWarning", "WARNING"):
        assert noise not in out + err


def test_inprocess_runtime_gives_flowers_ray_result(tmp_path: Path) -> None:
    """The in-process runtime must train the same model as Flower's engine (plain FedAvg: deterministic)."""
    plain = {**SMALL, "secagg": False, "dp": False}
    ours = run_simulation({**plain, "out-dir": str(tmp_path / "inprocess")})
    ray = run_simulation({**plain, "out-dir": str(tmp_path / "ray")}, runtime="ray")
    assert ours.ok and ray.ok and ray.summary["runtime"] == "ray"
    assert [r["accuracy"] for r in ours.summary["rounds"]] == [r["accuracy"] for r in ray.summary["rounds"]]
