"""Run the app as a Flower simulation from Python (used by run.py, tests and the scenario).

``run_simulation`` validates the configuration, the data and the privacy budget first (a bad
setting never starts training), runs ServerApp + ClientApps on a runtime from ``RUNTIMES``
(default: ``securefl.inprocess``, no Ray; ``ray``: Flower's own simulation engine), and
returns the summary the ServerApp wrote. The data source can be swapped (e.g. for a
quarantined landing) by passing ``data_source``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.cli import LabError
from lab.config import settings
from securefl import privacy
from securefl.config import FLConfig, load_config
from securefl.logs import LOG_NAME, flower_logs
from securefl.outputs import out_dir
from securefl.data import (DataSource, check_data, clients_of, describe_source, landed_source, packaged_source,
                           partition, source_silos)
from securefl.provenance import data_digest, memoised


@dataclass(frozen=True)
class RunResult:
    summary: dict[str, Any]
    seconds: float

    @property
    def ok(self) -> bool:
        return bool(self.summary.get("ok"))

    @property
    def model_path(self) -> Path | None:
        model = self.summary.get("model")
        return Path(model["path"]) if model else None

    @property
    def final_accuracy(self) -> float | None:
        return self.summary.get("final_accuracy")

    @property
    def epsilon(self) -> float | None:
        return self.summary.get("epsilon")


def flower_env() -> None:
    """Keep Flower's state in the project and stop it installing packages behind pip's back."""
    os.environ.setdefault("FLWR_HOME", str(settings().state_dir / "flwr"))
    os.environ["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] = "1"
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def resolve_source(cfg: FLConfig, data_source: DataSource | None) -> DataSource:
    """The source given, else the run config's (``data-root``), else the packaged digits."""
    return data_source or (landed_source(cfg.data_root) if cfg.data_root else packaged_source)


def check_sources(cfg: FLConfig, data_source: DataSource | None) -> list[int]:
    """Load and check every silo's data once, before training (a bad source fails in one line);
    returns each client's record count."""
    source = resolve_source(cfg, data_source)
    silos = source_silos(source)
    sizes: list[int] = []
    for silo in silos:
        clients = clients_of(silo, cfg.num_clients, silos)
        if clients:
            records = check_data(source(silo), silo, len(clients))
            sizes += [len(p) for p in partition(records, len(clients), cfg.partition, cfg.dirichlet_alpha, cfg.seed)]
    return sizes


def predicted_epsilon(cfg: FLConfig, client_sizes: list[int]) -> float:
    """The epsilon this configuration reaches if every round runs (inf without DP)."""
    if not cfg.dp:
        return math.inf
    if cfg.client_dp:
        return privacy.client_level_epsilon(cfg.noise_multiplier, cfg.num_server_rounds, cfg.delta)
    return privacy.record_level_epsilon(cfg.record_noise_multiplier, cfg.target_epsilon, client_sizes,
                                        cfg.batch_size, cfg.local_epochs, cfg.num_server_rounds, cfg.delta)


def check_privacy(cfg: FLConfig, client_sizes: list[int]) -> float:
    """Refuse, before training, a DP run whose delta exceeds 1/n or whose epsilon would exceed
    privacy.REFUSE_EPSILON (unless allow-weak-privacy=true). dp=false is an explicit choice of no
    privacy and is labelled as such in the outputs, not refused. Returns the predicted epsilon."""
    eps = predicted_epsilon(cfg, client_sizes)
    if not cfg.dp:
        return eps
    total = sum(client_sizes)
    if total and cfg.delta > 1.0 / total:
        raise LabError(f"delta={cfg.delta:g} exceeds 1/n = 1/{total} (n = training records): such a delta lets a "
                       "mechanism publish a record outright; lower delta")
    if eps > privacy.REFUSE_EPSILON and not cfg.allow_weak_privacy:
        raise LabError(f"this configuration gives epsilon = {eps:.3g} (> {privacy.REFUSE_EPSILON:g}): "
                       f"{privacy.WEAK_LABEL}. Add noise (target-epsilon / noise-multiplier), or set "
                       "allow-weak-privacy=true to run it anyway")
    return eps


def record_source(cfg: FLConfig, summary: dict[str, Any], data_source: DataSource | None) -> dict[str, Any]:
    """Add where the data came from (and per-silo record counts) to the summary and fl_run.json."""
    from securefl.outputs import REPORT_NAME, out_dir

    summary = {**summary, **describe_source(resolve_source(cfg, data_source), cfg.data_root)}
    report = out_dir(cfg) / REPORT_NAME
    if report.is_file():
        report.write_text(json.dumps(summary, indent=2, default=float))
    return summary


def _shutdown_ray() -> None:
    """Stop whatever a failed Ray start left running (its processes would outlive us)."""
    try:
        import ray

        ray.shutdown()
    except Exception:  # nosec B110 - best-effort cleanup after a failure that is re-raised or retried
        pass


def _run_ray(cfg: FLConfig, data_source: DataSource | None, sink: list[dict[str, Any]], data_sha256: str) -> None:
    """Flower's own simulation engine (Ray actors; started and shut down by every call)."""
    from flwr.simulation import run_simulation as flwr_run_simulation

    from securefl.client_app import make_client_app
    from securefl.server_app import make_server_app

    for attempt in (1, 2):
        abandon = threading.Event()
        try:
            flwr_run_simulation(
                server_app=make_server_app(cfg, sink, abandon, data_sha256),
                client_app=make_client_app(cfg, data_source),
                num_supernodes=cfg.num_clients,
                backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                "init_args": {"num_cpus": max(1, min(2, os.cpu_count() or 1)),
                                              "include_dashboard": False, "log_to_driver": False,
                                              "logging_level": "ERROR"}},
            )
            return
        except Exception as exc:  # Ray's start-up can time out on a loaded 2-core machine
            _shutdown_ray()
            if attempt == 2 or sink:
                raise LabError(f"the simulation runtime failed: {exc}") from exc
            logging.getLogger(__name__).warning("simulation runtime failed (%s); retrying once", exc)
        finally:  # a server thread still waiting for replies now would wait forever: release it
            abandon.set()


def _run_inprocess(cfg: FLConfig, data_source: DataSource | None, sink: list[dict[str, Any]],
                   data_sha256: str) -> None:
    """The same ServerApp and ClientApp over securefl.inprocess.InProcessGrid (no Ray, no start-up)."""
    from securefl.client_app import make_client_app
    from securefl.inprocess import run_inprocess
    from securefl.server_app import make_server_app

    run_inprocess(make_server_app(cfg, sink, data_sha256=data_sha256), make_client_app(cfg, data_source),
                  cfg.num_clients)


#: simulation runtimes behind one contract: (config, data source, summary sink, training-data digest) -> None
RUNTIMES: dict[str, Callable[[FLConfig, DataSource | None, list[dict[str, Any]], str], None]] = {
    "inprocess": _run_inprocess, "ray": _run_ray}
DEFAULT_RUNTIME = "inprocess"


def run_simulation(config: Mapping[str, Any] | FLConfig | None = None, data_source: DataSource | None = None,
                   quiet: bool = True, runtime: str = DEFAULT_RUNTIME) -> RunResult:
    """Validate, simulate, and return the run summary (raises LabError if the run is unhealthy).

    ``quiet``: Flower's and Ray's logs and warnings go to ``fl_run.log`` in the run's output
    folder instead of the console. ``runtime``: a key of ``RUNTIMES``."""
    if runtime not in RUNTIMES:
        raise LabError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    cfg = config if isinstance(config, FLConfig) else load_config(config)
    source = memoised(resolve_source(cfg, data_source))
    check_privacy(cfg, check_sources(cfg, source))
    silos = source_silos(source)
    data_sha256 = data_digest(source, [silo for silo in silos if clients_of(silo, cfg.num_clients, silos)])  # signed
    flower_env()
    sink: list[dict[str, Any]] = []
    started = time.perf_counter()
    with flower_logs(out_dir(cfg) / LOG_NAME, quiet):
        RUNTIMES[runtime](cfg, data_source, sink, data_sha256)
    seconds = time.perf_counter() - started
    if not sink:
        raise LabError(f"the simulation ended without a result (see {out_dir(cfg) / LOG_NAME})")
    sink[0]["runtime"] = runtime
    return RunResult(summary=record_source(cfg, sink[0], data_source), seconds=seconds)
