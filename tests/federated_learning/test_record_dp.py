"""Record-level DP (Opacus DP-SGD inside a client): training, accounting, configuration."""
from __future__ import annotations

import numpy as np
import pytest
from opacus.accountants import RDPAccountant

from lab.cli import LabError
from securefl import data, task
from securefl.client_app import SiloClient
from securefl.config import load_config
from securefl.privacy import dpsgd_steps, record_epsilon, record_noise_for_epsilon


def test_dpsgd_trains_and_returns_plain_weights() -> None:
    part = data.client_data(0, 10, "iid", 0.5, 42)
    model = task.new_model(0)
    before = task.get_weights(model)
    loss, rate, steps = task.train_dpsgd(model, part.x, part.y, 1, 16, 0.01, 1, 1.0, 1.0)
    assert (rate, steps) == dpsgd_steps(len(part), 16, 1)
    assert list(model.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert not any(np.array_equal(a, b) for a, b in zip(before, task.get_weights(model)))
    assert np.isfinite(loss) and not any(hasattr(p, "grad_sample") for p in model.parameters())


def test_record_epsilon_matches_stepping_the_accountant() -> None:
    acc = RDPAccountant()
    for _ in range(90):
        acc.step(noise_multiplier=1.2, sample_rate=0.1)
    # a coarser order grid than Opacus's default: an upper bound, within 2 % of it
    assert acc.get_epsilon(1e-5) <= record_epsilon(1.2, 0.1, 90, 1e-5) <= 1.02 * acc.get_epsilon(1e-5)
    assert record_epsilon(1.2, 0.1, 180, 1e-5) > record_epsilon(1.2, 0.1, 90, 1e-5)


@pytest.mark.parametrize("target", [1.0, 8.0])
def test_record_noise_reaches_target(target: float) -> None:
    z = record_noise_for_epsilon(target, 0.125, 200, 1e-5)
    assert record_epsilon(z, 0.125, 200, 1e-5) <= target * 1.01 < record_epsilon(z * 0.9, 0.125, 200, 1e-5)


def test_client_reports_record_epsilon_for_rounds_so_far() -> None:
    cfg = load_config({"dp-level": "record", "local-epochs": 1, "record-noise-multiplier": 1.5,
                       "target-epsilon": 0})
    client = SiloClient(cfg, 4, data.packaged_source)
    weights = task.get_weights(task.new_model(0, cfg.model))
    _, n, m1 = client.fit(weights, {"server-round": 1})
    _, _, m3 = client.fit(weights, {"server-round": 3})
    rate, steps = dpsgd_steps(n, cfg.batch_size, 1)
    assert m1["dp-epsilon"] == pytest.approx(record_epsilon(1.5, rate, steps, cfg.delta))
    assert m3["dp-epsilon"] == pytest.approx(record_epsilon(1.5, rate, 3 * steps, cfg.delta))


def test_record_level_config() -> None:
    cfg = load_config({"dp-level": "record"})
    assert cfg.record_dp and not cfg.client_dp
    assert not load_config({"dp-level": "record", "dp": False}).record_dp
    with pytest.raises(LabError, match="record-noise-multiplier"):
        load_config({"dp-level": "record", "record-noise-multiplier": 0.0, "target-epsilon": 0})
    assert load_config({"dp-level": "record", "record-noise-multiplier": 0.0}).target_epsilon == 8.0


@pytest.mark.slow  # trains one client for one round
def test_client_solves_its_noise_for_the_target_over_the_whole_run() -> None:
    cfg = load_config({"target-epsilon": 4.0})
    client = SiloClient(cfg, 2, data.packaged_source)
    _, n, metrics = client.fit(task.get_weights(task.new_model(0, "linear")), {"server-round": cfg.num_server_rounds})
    rate, steps = dpsgd_steps(n, cfg.batch_size, cfg.local_epochs)
    assert metrics["dp-noise"] == client.noise_multiplier() > 0
    assert 0.98 * 4.0 <= metrics["dp-epsilon"] <= 4.0
    assert record_epsilon(metrics["dp-noise"], rate, steps * cfg.num_server_rounds, cfg.delta) == metrics["dp-epsilon"]
    with pytest.raises(LabError, match="dp-level"):
        load_config({"dp-level": "sample"})
