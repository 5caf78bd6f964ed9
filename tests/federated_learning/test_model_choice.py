"""Model and optimizer choices (the DP-SGD recipe), and the benchmark's comparison and noise plan."""
from __future__ import annotations

import numpy as np
import pytest

from lab.cli import LabError
from securefl import data, task
from securefl.bench import RECORD_DP_SETTINGS, compare, record_noise
from securefl.config import load_config, parse_overrides
from securefl.privacy import dpsgd_steps, record_epsilon


@pytest.mark.parametrize(("kind", "arrays", "params"), [("mlp", 4, 64 * 128 + 128 + 128 * 10 + 10),
                                                          ("linear", 2, 64 * 10 + 10)])
def test_model_kinds_and_loading_by_shape(kind: task.ModelKind, arrays: int, params: int) -> None:
    weights = task.get_weights(task.new_model(0, kind))
    assert len(weights) == arrays and sum(w.size for w in weights) == params
    rebuilt = task.Net.for_weights(weights)
    task.set_weights(rebuilt, weights)
    assert rebuilt.kind == kind
    with pytest.raises(ValueError, match="weight arrays"):
        task.set_weights(task.Net("linear" if kind == "mlp" else "mlp"), weights)


def test_sgd_with_momentum_trains_the_linear_model() -> None:
    part = data.client_data(1, 10, "iid", 0.5, 42)
    model = task.new_model(0, "linear")
    first = task.train(model, part.x, part.y, 1, 32, 1.0, seed=1, optimizer="sgd")
    later = task.train(model, part.x, part.y, 3, 32, 1.0, seed=2, optimizer="sgd")
    assert later < first
    assert isinstance(task.make_optimizer(model, "sgd", 0.1), __import__("torch").optim.SGD)


def test_learning_rate_decays_linearly_to_the_last_round() -> None:
    lrs = [task.round_lr(2.0, 0.9, r, 10) for r in range(1, 11)]
    assert lrs[0] == 2.0 and lrs[-1] == pytest.approx(0.2) and all(a > b for a, b in zip(lrs, lrs[1:]))
    assert task.round_lr(0.5, 0.0, 7, 10) == 0.5 and task.round_lr(1.0, 0.5, 1, 1) == 1.0


def test_linear_model_centres_pixels_without_parameters() -> None:
    model = task.Net("linear")
    centre = model.layers[0]
    assert isinstance(centre, task.Centre) and not list(centre.parameters())
    assert centre(__import__("torch").tensor([0.0, 0.5, 1.0])).tolist() == [-1.0, 0.0, 1.0]


def test_unknown_model_or_optimizer_is_refused() -> None:
    with pytest.raises(LabError, match="model"):
        load_config(parse_overrides("model=cnn"))
    with pytest.raises(LabError, match="optimizer"):
        load_config(parse_overrides("optimizer=rmsprop"))
    with pytest.raises(LabError, match="lr-decay"):
        load_config(parse_overrides("lr-decay=1.0"))
    with pytest.raises(ValueError, match="unknown model"):
        task.Net("cnn")  # type: ignore[arg-type]


def test_record_noise_keeps_every_client_within_target_over_the_whole_run() -> None:
    target = 8.0
    cfg = load_config(RECORD_DP_SETTINGS)
    z = record_noise(target, RECORD_DP_SETTINGS)
    worst = 0.0
    for client in range(cfg.num_clients):
        n = len(data.client_data(client, cfg.num_clients, cfg.partition, cfg.dirichlet_alpha, cfg.seed))
        rate, steps = dpsgd_steps(n, cfg.batch_size, cfg.local_epochs)
        worst = max(worst, record_epsilon(z, rate, steps * cfg.num_server_rounds, cfg.delta))
    assert target * 0.95 < worst <= target * 1.01  # tight: the noise is not wastefully large either


def test_compare_reports_worst_gap_to_the_same_seeds_baseline() -> None:
    rows = [{"section": "robust", "run": "clean FedAvg", "seed": s, "final_accuracy": a, "epsilon": None,
             "privacy_level": "none"} for s, a in ((1, 0.95), (2, 0.90))]
    rows += [{"section": "robust", "run": "sign-flip, robust cosine", "seed": s, "final_accuracy": a,
              "epsilon": None, "privacy_level": "none"} for s, a in ((1, 0.94), (2, 0.87))]
    table = {e["run"]: e for e in compare(rows)}
    robust = table["sign-flip, robust cosine"]
    assert robust["worst_gap"] == pytest.approx(0.03) and robust["worst_accuracy"] == 0.87
    assert table["clean FedAvg"]["worst_gap"] == 0.0
    assert np.isclose(robust["mean_accuracy"], 0.905)


def test_client_runs_the_dpsgd_recipe_and_reports_its_epsilon() -> None:
    from securefl.client_app import SiloClient

    settings = {**RECORD_DP_SETTINGS, "dp-level": "record", "record-noise-multiplier": 1.34, "target-epsilon": 0}
    cfg = load_config(settings)
    client = SiloClient(cfg, 0, data.packaged_source)
    start = task.get_weights(task.new_model(0, "linear"))
    weights, n, metrics = client.fit(start, {"server-round": 10})
    rate, steps = dpsgd_steps(n, cfg.batch_size, cfg.local_epochs)
    assert len(weights) == 2 and not np.array_equal(weights[0], start[0])
    assert metrics["dp-epsilon"] == pytest.approx(record_epsilon(1.34, rate, 10 * steps, cfg.delta))
    assert metrics["dp-epsilon"] <= 8.0


def test_bench_cli_names_an_unknown_section(capsys: pytest.CaptureFixture[str]) -> None:
    import runpy

    from lab.paths import REPO_ROOT

    bench = runpy.run_path(str(REPO_ROOT / "federated-learning" / "bench.py"))
    with pytest.raises(SystemExit) as exit_:
        bench["main"](["bogus"])
    assert exit_.value.code == 2 and "unknown section(s) bogus" in capsys.readouterr().err
