"""course.privacy_bench: flags refused before work, the data source drops quarantined ids, the plot draws
(no training here: the bench itself is run by hand, its figures are in federated-learning/README.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from course import privacy_bench
from lab.cli import LabError


@pytest.mark.parametrize("argv, message", [
    (["--source", "3", "--target", "3"], "two different classes"),
    (["--seeds", "-1"], "non-negative"),
])
def test_bad_flags_stop_before_any_training(argv: list[str], message: str) -> None:
    with pytest.raises(LabError, match=message):
        privacy_bench.main(argv)


def test_source_drops_the_quarantined_ids() -> None:
    ids = np.array(["a", "b", "c"])
    data = {"aws": (np.zeros((3, 64), np.float32), np.array([0, 1, 2]), ids, np.array(["p"] * 3))}
    part = privacy_bench.source_of(data, {"b"})("aws")
    assert list(part.ids) == ["a", "c"] and list(part.y) == [0, 2]


def test_plot_draws_both_panels(tmp_path: Path) -> None:
    rows = [{"epsilon_target": e, "quarantine": q, "accuracy": 0.9, "attack_success": 0.0 if q else 0.5}
            for e in privacy_bench.EPSILONS for q in (False, True)]
    path = privacy_bench.plot(rows, tmp_path / "p.png")
    assert path.stat().st_size > 10_000
