"""Run the app as a Flower simulation from Python (used by run.py, tests and the scenario).

``run_simulation`` validates the configuration first (a bad setting never starts Ray),
runs ServerApp + ClientApps in-process through ``flwr.simulation.run_simulation``, and
returns the summary the ServerApp wrote. The data source can be swapped (e.g. for a
quarantined landing) by passing ``data_source``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.cli import LabError
from lab.config import settings
from securefl.config import FLConfig, load_config
from securefl.data import (DataSource, check_data, clients_of, describe_source, landed_source, packaged_source,
                           source_silos)


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


def check_sources(cfg: FLConfig, data_source: DataSource | None) -> None:
    """Load and check every silo's data once, before Ray starts (a bad source fails in one line)."""
    source = resolve_source(cfg, data_source)
    silos = source_silos(source)
    for silo in silos:
        clients = clients_of(silo, cfg.num_clients, silos)
        if clients:
            check_data(source(silo), silo, len(clients))


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


def run_simulation(config: Mapping[str, Any] | FLConfig | None = None, data_source: DataSource | None = None,
                   quiet: bool = True) -> RunResult:
    """Validate, simulate, and return the run summary (raises LabError if the run is unhealthy)."""
    cfg = config if isinstance(config, FLConfig) else load_config(config)
    check_sources(cfg, data_source)
    flower_env()
    from flwr.simulation import run_simulation as flwr_run_simulation

    from securefl.client_app import make_client_app
    from securefl.server_app import make_server_app

    if quiet:
        logging.getLogger("flwr").setLevel(logging.WARNING)
    sink: list[dict[str, Any]] = []
    started = time.perf_counter()
    for attempt in (1, 2):
        abandon = threading.Event()
        try:
            flwr_run_simulation(
                server_app=make_server_app(cfg, sink, abandon), client_app=make_client_app(cfg, data_source),
                num_supernodes=cfg.num_clients,
                backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                "init_args": {"num_cpus": max(1, min(2, os.cpu_count() or 1)),
                                              "include_dashboard": False,
                                              **({"log_to_driver": False, "logging_level": "ERROR"} if quiet else {})}},
            )
            break
        except Exception as exc:  # Ray's start-up can time out on a loaded 2-core machine
            _shutdown_ray()
            if attempt == 2 or sink:
                raise LabError(f"the simulation runtime failed: {exc}") from exc
            logging.getLogger(__name__).warning("simulation runtime failed (%s); retrying once", exc)
        finally:  # a server thread still waiting for replies now would wait forever: release it
            abandon.set()
    seconds = time.perf_counter() - started
    if not sink:
        raise LabError("the simulation ended without a result (see the Flower log above)")
    return RunResult(summary=record_source(cfg, sink[0], data_source), seconds=seconds)
