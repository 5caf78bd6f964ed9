"""Epsilon from dp-accounting, cross-checked against Opacus's independent RDP accountant."""
from __future__ import annotations

import math

import pytest
from opacus.accountants import RDPAccountant

from securefl.privacy import epsilon, epsilon_of, noise_for_epsilon


def test_matches_opacus_rdp() -> None:
    acc = RDPAccountant()
    for _ in range(5):
        acc.step(noise_multiplier=1.0, sample_rate=1.0)
    assert epsilon(1.0, 5, 1e-5) == pytest.approx(acc.get_epsilon(1e-5), rel=0.05)


def test_more_noise_less_epsilon_more_rounds_more_epsilon() -> None:
    assert epsilon(2.0, 5, 1e-5) < epsilon(1.0, 5, 1e-5) < epsilon(1.0, 10, 1e-5)
    assert epsilon(0.0, 5, 1e-5) == math.inf


@pytest.mark.parametrize("target", [1.0, 4.0, 8.0])
def test_noise_for_epsilon_reaches_target(target: float) -> None:
    z = noise_for_epsilon(target, 5, 1e-5)
    assert epsilon(z, 5, 1e-5) <= target < epsilon(z * 0.95, 5, 1e-5)


def test_per_round_composition_equals_uniform() -> None:
    assert epsilon_of([1.0] * 5, 1e-5) == pytest.approx(epsilon(1.0, 5, 1e-5))
    assert epsilon_of([1.0, 0.5], 1e-5) > epsilon(1.0, 2, 1e-5)
