"""Server-side strategies: FedAvg, client-side-clipping DP, robust aggregation, and a recorder.

``Inspector`` wraps whatever strategy runs and records, per round, which clients were
aggregated, failures, time and evaluation, so the run can check itself afterwards.
Without SecAgg+ it also inspects each update: median cosine similarity to the other
updates and L2 norm against the median norm. In ``robust`` mode with
``robust-method=cosine`` the flagged updates are dropped; with a stock robust strategy
(Krum, Multi-Krum, trimmed mean, median) they are only reported, the stock rule decides.
Under SecAgg+ every result carries the same masked sum, so no inspection is possible.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.common import FitRes, Parameters, Scalar, parameters_to_ndarrays
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import (
    DifferentialPrivacyClientSideFixedClipping,
    FedAvg,
    FedMedian,
    FedTrimmedAvg,
    Krum,
    Strategy,
)

from securefl.config import FLConfig

FitResults = list[tuple[ClientProxy, FitRes]]


@dataclass
class RoundLog:
    round: int
    clients: list[int] = field(default_factory=list)
    silos: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    flagged: list[int] = field(default_factory=list)
    flag_reasons: dict[str, str] = field(default_factory=dict)
    accuracy: float | None = None
    loss: float | None = None
    seconds: float | None = None
    aggregated: bool = False
    record_epsilon: float | None = None  # record-level DP: the largest epsilon any client reported
    client_epsilons: dict[int, float] = field(default_factory=dict)  # record-level: each client's own epsilon
    client_noise: dict[int, float] = field(default_factory=dict)  # record-level: each client's noise multiplier


def flag_outliers(updates: list[np.ndarray], cosine_threshold: float, norm_factor: float) -> dict[int, str]:
    """Index -> reason for updates pointing away from the others or far larger than the median.

    Direction is the *median* cosine similarity to every other update (a mean of the
    others would be dominated by one large attacker and make honest clients look bad).
    """
    flat = np.stack([u.ravel() for u in updates])
    norms = np.linalg.norm(flat, axis=1)
    unit = flat / np.where(norms > 0, norms, 1.0)[:, None]
    cosines = unit @ unit.T
    median = float(np.median(norms))
    out: dict[int, str] = {}
    for i in range(len(flat)):
        cos = float(np.median(np.delete(cosines[i], i)))
        if cos < cosine_threshold:
            out[i] = f"median cosine {cos:.2f} < {cosine_threshold}"
        elif median > 0 and norms[i] > norm_factor * median:
            out[i] = f"norm {norms[i]:.2f} > {norm_factor} x median {median:.2f}"
    return out


class Inspector(Strategy):
    """Delegates to the inner strategy; records rounds; inspects and (optionally) drops outliers."""

    def __init__(self, inner: Strategy, cfg: FLConfig) -> None:
        self.inner = inner
        self.cfg = cfg
        self.rounds: list[RoundLog] = []
        self.initial: tuple[float, float] | None = None
        self._global: list[np.ndarray] | None = None
        self._started = 0.0

    def __repr__(self) -> str:
        return f"Inspector({self.inner!r})"

    def _log(self, server_round: int) -> RoundLog:
        if not self.rounds or self.rounds[-1].round != server_round:
            self.rounds.append(RoundLog(server_round))
        return self.rounds[-1]

    def initialize_parameters(self, client_manager: Any) -> Parameters | None:
        return self.inner.initialize_parameters(client_manager)

    def configure_fit(self, server_round: int, parameters: Parameters, client_manager: Any) -> Any:
        self._started = time.perf_counter()
        self._global = parameters_to_ndarrays(parameters)
        self._log(server_round)
        return self.inner.configure_fit(server_round, parameters, client_manager)

    def aggregate_fit(self, server_round: int, results: FitResults,
                      failures: list[Any]) -> tuple[Parameters | None, dict[str, Scalar]]:
        log = self._log(server_round)
        log.failures = len(failures)
        log.clients = sorted(int(r.metrics["partition-id"]) for _, r in results)
        log.client_epsilons = {int(r.metrics["partition-id"]): float(r.metrics["dp-epsilon"])
                               for _, r in results if "dp-epsilon" in r.metrics}
        log.client_noise = {int(r.metrics["partition-id"]): float(r.metrics["dp-noise"])
                            for _, r in results if "dp-noise" in r.metrics}
        log.record_epsilon = max(log.client_epsilons.values()) if log.client_epsilons else None
        for _, r in results:
            silo = str(r.metrics.get("silo", "?"))
            log.silos[silo] = log.silos.get(silo, 0) + 1
        if not self.cfg.secagg and self._global is not None and len(results) > 2:
            updates = [np.concatenate([(n - g).ravel() for n, g in zip(parameters_to_ndarrays(r.parameters),
                                                                         self._global)]) for _, r in results]
            flags = flag_outliers(updates, self.cfg.cosine_threshold, self.cfg.norm_factor)
            ids = [int(r.metrics["partition-id"]) for _, r in results]
            log.flagged = sorted(ids[i] for i in flags)
            log.flag_reasons = {str(ids[i]): why for i, why in flags.items()}
            if self.cfg.mode == "robust" and self.cfg.robust_method == "cosine":
                results = [res for i, res in enumerate(results) if i not in flags]
        # Failures are recorded above; the DP wrapper would skip the whole round on any failure.
        params, metrics = self.inner.aggregate_fit(server_round, results, [])
        log.aggregated = params is not None
        return params, metrics

    def configure_evaluate(self, server_round: int, parameters: Parameters, client_manager: Any) -> Any:
        return []  # the server evaluates centrally on the held-out split

    def aggregate_evaluate(self, server_round: int, results: Any, failures: Any) -> Any:
        return None, {}

    def evaluate(self, server_round: int, parameters: Parameters) -> tuple[float, dict[str, Scalar]] | None:
        out = self.inner.evaluate(server_round, parameters)
        if out is None:
            return None
        loss, metrics = out
        if server_round == 0:
            self.initial = (float(loss), float(metrics["accuracy"]))
            return out
        log = self._log(server_round)
        log.loss, log.accuracy = float(loss), float(metrics["accuracy"])
        log.seconds = time.perf_counter() - self._started
        return out


def _fit_metrics(results: list[tuple[int, dict[str, Scalar]]]) -> dict[str, Scalar]:
    """The round's aggregated fit metrics: the largest record-level epsilon reported (the Inspector keeps
    the per-client figures); without it Flower logs a warning every round."""
    eps = [float(m["dp-epsilon"]) for _, m in results if "dp-epsilon" in m]
    return {"dp-epsilon-max": max(eps)} if eps else {}


def build_strategy(cfg: FLConfig, initial: Parameters, evaluate_fn: Any) -> Inspector:
    """The configured strategy stack: Inspector(DP?(base))."""
    common: dict[str, Any] = dict(
        fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=cfg.expected_clients(),
        min_available_clients=cfg.num_clients, initial_parameters=initial, evaluate_fn=evaluate_fn,
        accept_failures=True, on_fit_config_fn=lambda rnd: {"server-round": rnd},
        fit_metrics_aggregation_fn=_fit_metrics,
    )
    base: Strategy
    if cfg.mode == "fedavg" or cfg.robust_method == "cosine":
        base = FedAvg(**common)
    elif cfg.robust_method == "krum":
        base = Krum(num_malicious_clients=cfg.attackers, num_clients_to_keep=0, **common)
    elif cfg.robust_method == "multikrum":
        base = Krum(num_malicious_clients=cfg.attackers,
                    num_clients_to_keep=cfg.num_clients - cfg.attackers, **common)
    elif cfg.robust_method == "trimmed-mean":
        base = FedTrimmedAvg(beta=cfg.trim_beta, **common)
    else:
        base = FedMedian(**common)
    if cfg.client_dp:
        base = DifferentialPrivacyClientSideFixedClipping(
            base, noise_multiplier=cfg.noise_multiplier, clipping_norm=cfg.clipping_norm,
            num_sampled_clients=cfg.num_clients)
    return Inspector(base, cfg)
