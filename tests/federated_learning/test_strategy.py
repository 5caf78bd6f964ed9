"""Update inspection and the after-training self-checks, without starting Ray."""
from __future__ import annotations

import numpy as np

from securefl.config import load_config
from securefl.outputs import check_run
from securefl.strategy import Inspector, RoundLog, flag_outliers


def test_sign_flipped_and_oversized_updates_are_flagged() -> None:
    rng = np.random.default_rng(0)
    direction = rng.normal(size=200)
    honest = [direction + 0.3 * rng.normal(size=200) for _ in range(8)]
    flags = flag_outliers([-10 * honest[0], *honest[1:], 6 * honest[0]], 0.0, 3.0)
    assert set(flags) == {0, 8}
    assert "cosine" in flags[0] and "norm" in flags[8]
    assert flag_outliers(honest, 0.0, 3.0) == {}


def _inspector(clients_per_round: list[int], final: list[np.ndarray] | None) -> Inspector:
    cfg = load_config({"num-clients": 5, "num-server-rounds": len(clients_per_round)})
    ins = Inspector(inner=None, cfg=cfg)  # type: ignore[arg-type]
    ins.rounds = [RoundLog(i + 1, clients=list(range(k)), aggregated=True) for i, k in enumerate(clients_per_round)]
    ins.final = final
    return ins


def test_checks_pass_on_a_healthy_run_and_fail_otherwise() -> None:
    initial = [np.zeros(3)]
    assert check_run(_inspector([5, 5], [np.ones(3)]).cfg, _inspector([5, 5], [np.ones(3)]), initial) == []
    unchanged = _inspector([5, 5], [np.zeros(3)])
    assert any("did not change" in p for p in check_run(unchanged.cfg, unchanged, initial))
    short = _inspector([5, 4], [np.ones(3)])
    assert any("round 2: aggregated 4 clients, expected 5" in p for p in check_run(short.cfg, short, initial))
