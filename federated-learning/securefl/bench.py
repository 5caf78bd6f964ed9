"""Benchmarks (figures, not tests): round time, privacy-utility, robustness under attack.

Every figure is measured in the run that prints it; each configuration is a separate
simulation, so round 1 (Ray start-up) is excluded from the per-round mean.
"""
from __future__ import annotations

import statistics
from typing import Any

from tqdm import tqdm

from securefl.config import load_config
from securefl.data import client_data
from securefl.privacy import dpsgd_steps, noise_for_epsilon, record_noise_for_epsilon
from securefl.run import run_simulation

SECTIONS = ("timing", "privacy", "record", "robust")


def record_noise(eps: float, base: dict[str, Any]) -> float:
    """The DP-SGD noise multiplier giving every client record-level epsilon <= eps after all rounds."""
    cfg = load_config(base)
    worst = 0.0
    for client in range(cfg.num_clients):
        n = len(client_data(client, cfg.num_clients, cfg.partition, cfg.dirichlet_alpha, cfg.seed))
        rate, steps = dpsgd_steps(n, cfg.batch_size, cfg.local_epochs)
        worst = max(worst, record_noise_for_epsilon(eps, rate, steps * cfg.num_server_rounds, cfg.delta))
    return worst


def _plan(section: str, base: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rounds = int(base.get("num-server-rounds", 5))
    delta = float(base.get("delta", 1e-5))
    if section == "timing":
        return [("plain FedAvg", {"secagg": False, "dp": False}),
                ("SecAgg+", {"secagg": True, "dp": False}),
                ("SecAgg+ + DP", {"secagg": True, "dp": True})]
    if section == "privacy":
        rows: list[tuple[str, dict[str, Any]]] = [("no DP", {"secagg": True, "dp": False})]
        for eps in (8.0, 4.0, 1.0):
            z = noise_for_epsilon(eps, rounds, delta)
            rows.append((f"client-level eps<={eps:g}", {"secagg": True, "dp": True, "noise-multiplier": round(z, 4)}))
        return rows
    if section == "record":
        rec: list[tuple[str, dict[str, Any]]] = [("no DP", {"secagg": True, "dp": False})]
        for eps in (8.0, 4.0, 1.0):
            z = record_noise(eps, base)
            rec.append((f"record-level eps<={eps:g}", {"secagg": True, "dp": True, "dp-level": "record",
                                                      "record-noise-multiplier": round(z, 4) + 1e-4}))
        return rec
    attack = {"attack": "sign-flip", "attackers": 1, "secagg": False, "dp": False}
    return [("clean FedAvg", {"secagg": False, "dp": False}),
            ("sign-flip, FedAvg", {**attack, "mode": "fedavg"}),
            ("sign-flip, SecAgg+ (clipping only)", {**attack, "secagg": True, "dp": True,
                                                    "noise-multiplier": 0.01, "clipping-norm": 4.0}),
            *[(f"sign-flip, robust {m}", {**attack, "mode": "robust", "robust-method": m})
              for m in ("cosine", "krum", "multikrum", "trimmed-mean", "median")]]


def run_section(section: str, base: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for label, overrides in tqdm(_plan(section, base), desc=section, unit="run"):
        result = run_simulation({**base, **overrides})
        s = result.summary
        later = [t for t in s["seconds_per_round"][1:] if t is not None]
        rows.append({
            "section": section, "run": label, "ok": s["ok"], "final_accuracy": s["final_accuracy"],
            "epsilon": s["epsilon"], "delta": s["delta"],
            "noise_multiplier": s["dp_settings"]["noise_multiplier"] if s["dp"] else None,
            "privacy_level": s["privacy_level"],
            "s_per_round_after_first": statistics.mean(later) if later else None,
            "first_round_s": s["seconds_per_round"][0], "total_s": round(result.seconds, 1),
            "flagged_clients": s["flagged_clients"],
        })
    return rows
