"""ex07 against the copy's securefl.privacy: the grader's own RDP accounting must agree."""
from __future__ import annotations

import math

import dp_accounting
import pytest
from dp_accounting.rdp import RdpAccountant

from securefl import privacy


def _reference(zs: list[float], delta: float) -> float:
    acc = RdpAccountant()
    for z in zs:
        acc.compose(dp_accounting.GaussianDpEvent(z))
    return float(acc.get_epsilon(delta))


@pytest.mark.parametrize(("zs", "delta"), [([1.1] * 5, 1e-5), ([0.8, 1.6, 3.2], 1e-6), ([2.0], 1e-4)])
def test_ex07_epsilon_of_matches_the_grader(zs, delta) -> None:
    assert privacy.epsilon_of(zs, delta) == pytest.approx(_reference(zs, delta), rel=1e-6)


@pytest.mark.parametrize(("z", "rounds"), [(1.0, 10), (4.0, 3)])
def test_ex07_epsilon_matches_the_grader(z, rounds) -> None:
    assert privacy.epsilon(z, rounds, 1e-5) == pytest.approx(_reference([z] * rounds, 1e-5), rel=1e-6)


def test_ex07_subsampling_is_accounted() -> None:
    acc = RdpAccountant()
    acc.compose(dp_accounting.PoissonSampledDpEvent(0.1, dp_accounting.GaussianDpEvent(1.0)), 20)
    assert privacy.epsilon(1.0, 20, 1e-5, sampling_rate=0.1) == pytest.approx(acc.get_epsilon(1e-5), rel=1e-6)


def test_ex07_no_noise_is_no_guarantee() -> None:
    assert math.isinf(privacy.epsilon_of([1.0, 0.0], 1e-5))
    assert math.isinf(privacy.epsilon(0.0, 3, 1e-5))
    assert privacy.epsilon_of([], 1e-5) == 0.0
