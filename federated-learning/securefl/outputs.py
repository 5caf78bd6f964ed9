"""After training: privacy accounting, self-checks, ``fl_run.json``, the plot and the model.

The checks exist because a broken secure-aggregation round can leave the model
untouched while Flower still exits 0; a run that fails them writes its report
(``ok: false`` with the problems) but no model.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lab.paths import MODELS_DIR
from securefl import privacy
from securefl.artifact import write_model
from securefl.config import FLConfig
from securefl.logs import LOG_NAME
from securefl.provenance import Provenance, config_digest, new_run_id
from securefl.signing import signer_for, signing_services
from securefl.strategy import Inspector

MODEL_NAME = "fl_global.model"
REPORT_NAME = "fl_run.json"
PLOT_NAME = "fl_run.png"


def out_dir(cfg: FLConfig) -> Path:
    return Path(cfg.out_dir) if cfg.out_dir else MODELS_DIR


def _epsilons(cfg: FLConfig, counts: list[int], record_eps: list[float | None] | None = None) -> tuple[list[float | None], list[float | None]]:
    """Per-round (effective noise multiplier, cumulative epsilon) for the rounds that ran.

    Noise is scaled for ``num_clients`` but the mean is over the ``k`` clients actually
    aggregated, so the effective multiplier on the sum is ``z * k / n``.
    """
    if not cfg.dp:
        return [None] * len(counts), [None] * len(counts)
    if cfg.record_dp:
        return [cfg.record_noise_multiplier] * len(counts), list(record_eps or [None] * len(counts))
    zs = [cfg.noise_multiplier * k / cfg.num_clients for k in counts]
    eps = [privacy.epsilon_of(zs[: i + 1], cfg.delta) for i in range(len(zs))]
    return list(zs), eps


def guarantee(cfg: FLConfig, eps: float | None) -> privacy.Guarantee:
    """What this run's epsilon means: level, accountant, where the noise was added, and its label."""
    if not cfg.dp:
        return privacy.Guarantee(None, None, None, "none", None)
    if cfg.record_dp:
        return privacy.Guarantee(eps, cfg.delta, RECORD_ACCOUNTANT, "record", "client")
    return privacy.Guarantee(eps, cfg.delta, CLIENT_ACCOUNTANT, "client", "server")


RECORD_ACCOUNTANT = "Opacus RDP (DP-SGD)"
CLIENT_ACCOUNTANT = "dp-accounting RDP"


def check_run(cfg: FLConfig, inspector: Inspector, initial: list[np.ndarray]) -> list[str]:
    """Problems that make the run a failure (empty list = healthy)."""
    problems: list[str] = []
    if len(inspector.rounds) != cfg.num_server_rounds:
        problems.append(f"{len(inspector.rounds)} rounds ran, {cfg.num_server_rounds} configured")
    final = getattr(inspector, "final", None)
    if final is None or all(np.array_equal(a, b) for a, b in zip(final, initial)):
        problems.append("the global model did not change during training")
    for log in inspector.rounds:
        if not log.aggregated:
            problems.append(f"round {log.round}: nothing was aggregated")
        if len(log.clients) != cfg.expected_clients():
            problems.append(f"round {log.round}: aggregated {len(log.clients)} clients, "
                            f"expected {cfg.expected_clients()}")
    return problems


def summarise(cfg: FLConfig, inspector: Inspector, problems: list[str]) -> dict[str, Any]:
    zs, eps = _epsilons(cfg, [len(r.clients) for r in inspector.rounds], [r.record_epsilon for r in inspector.rounds])
    rounds = [{
        "round": r.round, "accuracy": r.accuracy, "loss": r.loss, "epsilon": e, "effective_noise_multiplier": z,
        "clients": r.clients, "clients_per_silo": r.silos, "failures": r.failures, "flagged": r.flagged,
        "flag_reasons": r.flag_reasons, "seconds": r.seconds,
    } for r, z, e in zip(inspector.rounds, zs, eps)]
    flagged = sorted({c for r in inspector.rounds for c in r.flagged})
    final_eps = eps[-1] if eps else None
    promise = guarantee(cfg, final_eps)
    last = inspector.rounds[-1] if inspector.rounds else None
    return {
        "ok": not problems, "problems": problems,
        "final_accuracy": rounds[-1]["accuracy"] if rounds else None,
        "initial_accuracy": inspector.initial[1] if inspector.initial else None,
        "secagg": cfg.secagg,
        "secagg_settings": ({"num_shares": cfg.num_shares, "reconstruction_threshold": cfg.reconstruction_threshold,
                             "clipping_range": cfg.clipping_range, "quantization_range": cfg.quantization_range}
                            if cfg.secagg else None),
        "dp": cfg.dp,
        "dp_settings": (({"level": "client", "noise_multiplier": cfg.noise_multiplier,
                          "clipping_norm": cfg.clipping_norm, "accountant": CLIENT_ACCOUNTANT,
                          "assumptions": privacy.ASSUMPTIONS} if cfg.client_dp else
                         {"level": "record",
                          "noise_multiplier": (max(last.client_noise.values()) if last and last.client_noise
                                               else cfg.record_noise_multiplier),
                          "noise_multiplier_per_client": {str(k): v for k, v in sorted(last.client_noise.items())}
                          if last else {},
                          "target_epsilon": cfg.target_epsilon or None,
                          "clipping_norm": cfg.record_max_grad_norm, "accountant": RECORD_ACCOUNTANT,
                          "assumptions": privacy.RECORD_ASSUMPTIONS}) if cfg.dp else None),
        "privacy_level": (cfg.dp_level if cfg.dp else "none"),
        "epsilon": final_eps, "delta": cfg.delta if cfg.dp else None,
        "accountant": promise.accountant, "noise_on": promise.noise_on,
        "epsilon_per_client": ({str(k): v for k, v in sorted(last.client_epsilons.items())}
                               if last and last.client_epsilons else None),
        "privacy_guarantee": promise.as_dict(),
        "mode": cfg.mode, "robust_method": cfg.robust_method if cfg.mode == "robust" else None,
        "clients_per_round": [len(r.clients) for r in inspector.rounds],
        "flagged_clients": flagged,
        "attack": {"kind": cfg.attack, "attackers": list(range(cfg.attackers)), "scale": cfg.attack_scale}
        if cfg.attack != "none" else None,
        "seconds_per_round": [r.seconds for r in inspector.rounds],
        "rounds": rounds,
        "config": cfg.run_config(),
    }


def plot(summary: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [r["round"] for r in summary["rounds"]]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(rounds, [r["accuracy"] for r in summary["rounds"]], "o-", color="tab:blue", label="accuracy")
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy", color="tab:blue")
    ax.set_ylim(0, 1)
    if summary["dp"]:
        ax2 = ax.twinx()
        ax2.plot(rounds, [r["epsilon"] for r in summary["rounds"]], "s--", color="tab:red")
        ax2.set_ylabel(f"epsilon ({summary['privacy_level']}-level, delta={summary['delta']:g})", color="tab:red")
    ax.set_title(f"secagg={summary['secagg']} dp={summary['dp']} mode={summary['mode']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def configured_data_digest(cfg: FLConfig) -> str:
    """Digest of the data a run config points the clients at (landing or packaged share)."""
    from securefl.data import SILOS, landed_source, packaged_source
    from securefl.provenance import data_digest

    return data_digest(landed_source(cfg.data_root) if cfg.data_root else packaged_source, SILOS)


def finish_run(cfg: FLConfig, inspector: Inspector, initial: list[np.ndarray],
               data_sha256: str | None = None) -> dict[str, Any]:
    """Check, write the report and plot, and (only if healthy) the signed encrypted model.

    ``data_sha256``: digest of the data the clients trained on (run_simulation computes it from
    its data source); without it, of the data the run config points the clients at."""
    problems = check_run(cfg, inspector, initial)
    summary = summarise(cfg, inspector, problems)
    folder = out_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_NAME
    if not problems:
        bound = Provenance(new_run_id(), config_digest(cfg.run_config()), data_sha256 or configured_data_digest(cfg))
        with signing_services(cfg.signer):
            signer = signer_for(cfg.signer)
            write_model(model_path, inspector.final, signer, bound,
                        meta={"final_accuracy": summary["final_accuracy"], "epsilon": summary["epsilon"]})
        summary["model"] = {"path": str(model_path), "signer": signer.name, "key_id": signer.key_id,
                            **bound.to_json()}
    else:
        summary["model"] = None
    summary["plot"] = str(plot(summary, folder / PLOT_NAME)) if summary["rounds"] else None
    summary["log"] = str(folder / LOG_NAME)
    (folder / REPORT_NAME).write_text(json.dumps(summary, indent=2, default=float))
    return summary
