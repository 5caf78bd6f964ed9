"""The ServerApp: SecAgg+ (older workflow API) or plain/robust aggregation, then self-checks.

SecAgg+ runs only as ``DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(...))`` over a
``LegacyContext``. The server evaluates the global model on the held-out split after
every round. When training ends it writes ``fl_run.json``, checks that the model
changed and that every round aggregated the expected clients, and only then writes
the signed, encrypted model.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flwr.app import Context
from flwr.common import ndarrays_to_parameters
from flwr.server import LegacyContext, ServerConfig
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.serverapp import Grid, ServerApp

from securefl import task
from securefl.config import FLConfig, load_config
from securefl.data import test_set
from securefl.grid import AbandonableGrid
from securefl.outputs import finish_run
from securefl.strategy import Inspector, build_strategy


def _evaluate_fn(inspector_ref: list[Inspector], kind: task.ModelKind) -> Callable[..., Any]:
    test = test_set()
    model = task.Net(kind)

    def evaluate(server_round: int, weights: list, config: dict) -> tuple[float, dict]:
        task.set_weights(model, weights)
        loss, acc = task.evaluate(model, test.x, test.y)
        if inspector_ref:
            inspector_ref[0].final = [w.copy() for w in weights]
        return loss, {"accuracy": acc}

    return evaluate


def run_server(grid: Grid, context: Context, cfg: FLConfig, data_sha256: str | None = None) -> dict[str, Any]:
    """Train, then check and write outputs; return the run summary."""
    initial = task.get_weights(task.new_model(cfg.seed, cfg.model))
    ref: list[Inspector] = []
    inspector = build_strategy(cfg, ndarrays_to_parameters(initial), _evaluate_fn(ref, cfg.model))
    inspector.final = None
    ref.append(inspector)
    legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=cfg.num_server_rounds),
                           strategy=inspector)
    fit_workflow = (SecAggPlusWorkflow(num_shares=cfg.num_shares,
                                       reconstruction_threshold=cfg.reconstruction_threshold,
                                       clipping_range=cfg.clipping_range,
                                       quantization_range=cfg.quantization_range)
                    if cfg.secagg else None)
    DefaultWorkflow(fit_workflow=fit_workflow)(grid, legacy)
    return finish_run(cfg, inspector, initial, data_sha256)


def make_server_app(cfg: FLConfig | None = None, sink: list[dict[str, Any]] | None = None,
                    abandon: threading.Event | None = None, data_sha256: str | None = None) -> ServerApp:
    """A ServerApp; with no cfg it reads the run config Flower gives it (deployment).

    ``abandon``: set it to make this app's waits for client replies stop (see securefl.grid)."""
    server = ServerApp()

    @server.main()
    def main(grid: Grid, context: Context) -> None:
        run_cfg = cfg or load_config(dict(context.run_config))
        if abandon is not None:
            grid = AbandonableGrid(grid, abandon)  # type: ignore[assignment]
        summary = run_server(grid, context, run_cfg, data_sha256)
        if sink is not None:
            sink.append(summary)

    return server


app = make_server_app()
