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


# --- issue #15: weak privacy is named as such, and refused above 100 unless asked for ---------------

from lab.cli import LabError  # noqa: E402
from securefl import privacy  # noqa: E402
from securefl.config import load_config  # noqa: E402
from securefl.outputs import guarantee  # noqa: E402
from securefl.run import check_privacy, check_sources, predicted_epsilon  # noqa: E402

SIZES = [140] * 10


@pytest.mark.parametrize(("overrides", "meaningful", "why"), [
    ({}, True, ""),
    ({"dp": False}, False, "no DP"),
    ({"dp-level": "client"}, False, "> 10"),
])
def test_labels_say_when_there_is_no_meaningful_guarantee(overrides: dict, meaningful: bool, why: str) -> None:
    cfg = load_config(overrides)
    promise = guarantee(cfg, predicted_epsilon(cfg, SIZES) if cfg.dp else None)
    assert promise.meaningful is meaningful
    if meaningful:
        assert promise.noise_on == "client" and promise.accountant and "epsilon = 8.00" in promise.label
    else:
        assert privacy.WEAK_LABEL in promise.label and why in promise.label


def test_no_accountant_is_no_guarantee() -> None:
    assert not privacy.Guarantee(1.0, 1e-5, None, "record", "client").meaningful
    assert privacy.Guarantee(10.0, 1e-5, "x", "record", "client").meaningful
    assert not privacy.Guarantee(10.01, 1e-5, "x", "record", "client").meaningful


def test_weak_configuration_is_refused_before_training_unless_allowed() -> None:
    weak = {"dp-level": "client", "noise-multiplier": 0.05}  # the old default: epsilon ~ 1e3
    with pytest.raises(LabError, match="allow-weak-privacy"):
        check_privacy(load_config(weak), SIZES)
    assert check_privacy(load_config({**weak, "allow-weak-privacy": True}), SIZES) > privacy.REFUSE_EPSILON
    assert check_privacy(load_config({"dp": False}), SIZES) == math.inf  # an explicit no-DP run is labelled
    with pytest.raises(LabError, match="allow-weak-privacy"):  # record-level, too little noise
        check_privacy(load_config({"target-epsilon": 0, "record-noise-multiplier": 0.3}), SIZES)


def test_delta_above_one_over_n_is_refused() -> None:
    with pytest.raises(LabError, match="1/n"):
        check_privacy(load_config({"delta": 0.01}), SIZES)


def test_default_predicts_the_target_on_the_packaged_data() -> None:
    cfg = load_config({})
    sizes = check_sources(cfg, None)
    assert len(sizes) == cfg.num_clients and check_privacy(cfg, sizes) == 8.0
    assert 1 / sum(sizes) >= cfg.delta


def test_client_noise_is_shared_by_clients_of_the_same_sampling_rate() -> None:
    z = privacy.client_record_noise(8.0, 130, 32, 1, 10, 1e-5)
    assert z == privacy.client_record_noise(8.0, 150, 32, 1, 10, 1e-5)  # both ceil(n/32) = 5 batches
    rate, steps = privacy.dpsgd_steps(130, 32, 1)
    assert 7.9 <= privacy.record_epsilon(z, rate, 10 * steps, 1e-5) <= 8.0
