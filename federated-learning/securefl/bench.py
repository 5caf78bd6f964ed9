"""Benchmarks (figures, not tests): round time, privacy-utility, robustness under attack.

Every figure is measured in the run that prints it; each configuration is a separate
simulation, so round 1 (Ray start-up with --runtime ray; lazy imports and the noise solve
otherwise) is excluded from the per-round mean. With several
seeds each configuration runs once per seed, and ``compare`` reports, per configuration,
the worst accuracy and the worst gap to the section's baseline run *of the same seed*.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from securefl.config import load_config
from securefl.data import client_data
from securefl.privacy import dpsgd_steps, noise_for_epsilon, record_noise_for_epsilon
from securefl.run import DEFAULT_RUNTIME, run_simulation

SECTIONS = ("timing", "privacy", "record", "robust")
BASELINES = {"privacy": "no DP", "record": "no DP (same settings)", "robust": "clean FedAvg"}

# Record-level DP-SGD recipe (swept in the README; the app's defaults since issue #15): a linear model
# on centred pixels (fewer parameters, less noise per useful signal), SGD with momentum at a high
# learning rate that decays over the rounds, one local epoch per round and more rounds.
RECORD_DP_SETTINGS: dict[str, Any] = {
    "model": "linear", "optimizer": "sgd", "learning-rate": 2.0, "lr-decay": 0.9, "local-epochs": 1,
    "batch-size": 32, "num-server-rounds": 10, "record-max-grad-norm": 1.0,
}


def record_noise(eps: float, base: dict[str, Any]) -> float:
    """One DP-SGD noise multiplier giving every client record-level epsilon <= eps after all rounds (the
    worst client's; the app's target-epsilon instead lets each client solve its own)."""
    cfg = load_config(base)
    plans = {dpsgd_steps(len(client_data(client, cfg.num_clients, cfg.partition, cfg.dirichlet_alpha, cfg.seed)),
                         cfg.batch_size, cfg.local_epochs) for client in range(cfg.num_clients)}
    return max(record_noise_for_epsilon(eps, rate, steps * cfg.num_server_rounds, cfg.delta) for rate, steps in plans)


def _plan(section: str, base: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rounds = int(base.get("num-server-rounds", load_config(base).num_server_rounds))
    delta = float(base.get("delta", 1e-5))
    if section == "timing":
        return [("plain FedAvg", {"secagg": False, "dp": False}),
                ("SecAgg+", {"secagg": True, "dp": False}),
                ("SecAgg+ + DP-SGD (default)", {"secagg": True, "dp": True})]
    if section == "privacy":
        rows: list[tuple[str, dict[str, Any]]] = [("no DP", {"secagg": True, "dp": False})]
        for eps in (8.0, 4.0, 1.0):
            z = noise_for_epsilon(eps, rounds, delta)
            rows.append((f"client-level eps<={eps:g}", {"secagg": True, "dp": True, "dp-level": "client",
                                                       "noise-multiplier": round(z, 4) + 1e-4}))
        return rows
    if section == "record":
        # the app's defaults are the DP-SGD recipe; every client solves its own noise for the target
        rec: list[tuple[str, dict[str, Any]]] = [(BASELINES["record"], {"secagg": True, "dp": False})]
        for eps in (8.0, 4.0, 2.0, 1.0):
            rec.append((f"record-level eps<={eps:g}", {"secagg": True, "dp": True, "dp-level": "record",
                                                      "target-epsilon": eps}))
        return rec
    attack = {"attack": "sign-flip", "secagg": False, "dp": False}
    return [(BASELINES["robust"], {"secagg": False, "dp": False}),
            ("sign-flip, FedAvg", {**attack, "mode": "fedavg"}),
            ("sign-flip, SecAgg+ (clipping only)", {**attack, "secagg": True, "dp": True,
                                                    "noise-multiplier": 0.01, "clipping-norm": 4.0}),
            *[(f"sign-flip, robust {m}", {**attack, "mode": "robust", "robust-method": m})
              for m in ("cosine", "krum", "multikrum", "trimmed-mean", "median")]]


def run_section(section: str, base: dict[str, Any], seeds: Sequence[int] = (42,),
                only: Sequence[str] = (), runtime: str = DEFAULT_RUNTIME) -> list[dict[str, Any]]:
    """One simulation per (configuration, seed); one row each. `only`: keep the configurations whose
    label contains one of these strings (the section's baseline always runs, for the gaps)."""
    rows = []
    # planned per seed: the noise solved for a target epsilon depends on each client's record count
    plan = [(seed, label, overrides) for seed in seeds for label, overrides in _plan(section, {**base, "seed": seed})
            if not only or label == BASELINES.get(section) or any(o in label for o in only)]
    for seed, label, overrides in tqdm(plan, desc=section, unit="run"):
        result = run_simulation({**base, **overrides, "seed": seed}, runtime=runtime)
        s = result.summary
        later = [t for t in s["seconds_per_round"][1:] if t is not None]
        tqdm.write(f"{section}: {label} seed={seed} accuracy={s['final_accuracy']:.3f} epsilon={s['epsilon']}")
        rows.append({
            "section": section, "run": label, "seed": seed, "ok": s["ok"], "final_accuracy": s["final_accuracy"],
            "epsilon": s["epsilon"], "delta": s["delta"],
            "noise_multiplier": s["dp_settings"]["noise_multiplier"] if s["dp"] else None,
            "privacy_level": s["privacy_level"],
            "s_per_round_after_first": statistics.mean(later) if later else None,
            "first_round_s": s["seconds_per_round"][0], "total_s": round(result.seconds, 1), "runtime": runtime,
            "flagged_clients": s["flagged_clients"], "settings": overrides,
        })
    return rows


def compare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (section, run): worst accuracy over seeds and worst gap to the baseline of the same seed."""
    base = {(r["section"], r["seed"]): r["final_accuracy"] for r in rows if BASELINES.get(r["section"]) == r["run"]}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["section"], r["run"])
        entry = out.setdefault(key, {"section": r["section"], "run": r["run"], "seeds": [], "accuracies": [],
                                     "worst_gap": None, "epsilon": r["epsilon"], "privacy_level": r["privacy_level"]})
        entry["seeds"].append(r["seed"])
        entry["accuracies"].append(r["final_accuracy"])
        ref = base.get((r["section"], r["seed"]))
        if ref is not None and r["final_accuracy"] is not None:
            gap = ref - r["final_accuracy"]
            entry["worst_gap"] = gap if entry["worst_gap"] is None else max(entry["worst_gap"], gap)
    for entry in out.values():
        entry["worst_accuracy"] = min(entry["accuracies"])
        entry["mean_accuracy"] = statistics.mean(entry["accuracies"])
    return list(out.values())
