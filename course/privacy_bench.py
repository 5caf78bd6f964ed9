"""Privacy/utility bench: accuracy and backdoor attack success against epsilon, with and without quarantine.

  python -m course.privacy_bench                       # seed 0, epsilon 1, 2, 4, 8 and no DP
  python -m course.privacy_bench --seeds 0 1 2 --plot federated-learning/privacy_utility.png

The data is the scenario's: every silo's share of the digits training split as signed records,
plus, in the compromised silo, backdoored records (class ``source`` + trigger, labelled
``target``) signed by a stolen producer key. The records are used in memory (no emulators,
no streams): this bench measures training, not ingestion. For each seed the detector scans
every silo once; "quarantined" trains without the records it flagged. Every training is the
FL app's default (SecAgg+, record-level DP-SGD on every client, each client solving its noise
for the target epsilon) or the same settings with DP off. Figures are printed as they are
measured (last line: JSON) and drawn as two panels (accuracy, attack success) against epsilon.
It lives in course/ because it needs both the detector and the FL app (securefl may not import
poisoning_detection).
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lab.cli import LabError, parser, run_main

EPSILONS: tuple[float | None, ...] = (1.0, 2.0, 4.0, 8.0, None)  # None: the same settings without DP
DEFAULT_PLOT = Path("federated-learning/privacy_utility.png")
COMPROMISED = "aws"


def silo_records(seed: int, poison_rate: float, source: int, target: int) -> tuple[dict[str, Any], set[str]]:
    """Each silo's records as (x, y, ids, producers) arrays, and the ids of the injected ones."""
    from course.scenario.traffic import backdoor_records
    from ingestion.records import SILOS
    from ingestion.samples import default_producer, generate_records, silo_share

    out: dict[str, Any] = {}
    injected: set[str] = set()
    for silo in SILOS:
        records = generate_records(silo, len(silo_share(silo)), seed=seed, producer=default_producer(silo))
        if silo == COMPROMISED:
            bad = backdoor_records(silo, records, max(1, round(poison_rate * len(records))), source, target, seed)
            injected |= {r.id for r in bad}
            records = records + bad
        out[silo] = (np.array([r.features for r in records], dtype=np.float32),
                     np.array([r.label for r in records], dtype=np.int64),
                     np.array([r.id for r in records]), np.array([r.producer for r in records]))
    return out, injected


def flagged_ids(data: dict[str, Any], seed: int) -> set[str]:
    """Ids the detector flags in every silo (the scenario's quarantine)."""
    from poisoning_detection.api import scan

    flagged: set[str] = set()
    for x, y, ids, producers in data.values():
        report = scan(x, y, ids=ids, producers=producers, seed=seed, progress=False, shape=(8, 8))
        flagged |= {str(i) for i in report.flagged}
    return flagged


def source_of(data: dict[str, Any], drop: set[str]) -> Any:
    """A securefl data source over these arrays, without the ``drop`` ids."""
    from securefl.data import SiloData

    def load(silo: str) -> SiloData:
        x, y, ids, _ = data[silo]
        keep = np.array([i not in drop for i in ids], dtype=bool)
        return SiloData(x[keep], y[keep], ids[keep])

    return load


def train_once(source: Any, eps: float | None, seed: int, src_class: int, target: int, out: Path) -> dict[str, Any]:
    """One default FL training at this epsilon (None: DP off); accuracy, attack success, privacy figures."""
    from course.backdoor import backdoor_metrics
    from securefl.run import run_simulation
    from securefl.task import load_model

    config: dict[str, Any] = {"seed": seed, "out-dir": str(out), "dp": eps is not None}
    if eps is not None:
        config["target-epsilon"] = eps
    result = run_simulation(config, data_source=source)
    if not result.ok or result.model_path is None:
        raise LabError(f"training at epsilon={eps} failed its checks: {result.summary['problems']}")
    accuracy, asr = backdoor_metrics(load_model(result.model_path), src_class, target)
    return {"accuracy": accuracy, "attack_success": asr, "epsilon": result.summary["epsilon"],
            "privacy": result.summary["privacy_guarantee"]["label"], "seconds": round(result.seconds, 1)}


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Two panels against epsilon (worst seed: lowest accuracy, highest attack success)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [("no DP" if e is None else f"{e:g}") for e in EPSILONS]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for quarantine, style in ((False, "o--"), (True, "s-")):
        picked = [[r for r in rows if r["epsilon_target"] == e and r["quarantine"] == quarantine] for e in EPSILONS]
        name = "after quarantine" if quarantine else "raw (poisoned)"
        axes[0].plot(labels, [min(r["accuracy"] for r in p) if p else np.nan for p in picked], style, label=name)
        axes[1].plot(labels, [100 * max(r["attack_success"] for r in p) if p else np.nan for p in picked], style,
                     label=name)
    axes[0].set(title="Accuracy (held-out, worst seed)", xlabel="record-level ε per client (δ = 1e-5)",
                ylabel="accuracy")
    axes[1].set(title="Backdoor attack success (worst seed)", xlabel="record-level ε per client (δ = 1e-5)",
                ylabel="% triggered images → target")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from lab.cli import share

    p = parser("python -m course.privacy_bench", __doc__ or "")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="SEED", help="data/training seeds (default 0)")
    p.add_argument("--poison-rate", type=share, default=0.08, help="injected / clean records in aws (default 0.08)")
    p.add_argument("--source", type=int, default=0, help="class that carries the trigger (default 0)")
    p.add_argument("--target", type=int, default=1, help="label the trigger should produce (default 1)")
    p.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help=f"where the plot goes (default {DEFAULT_PLOT})")
    args = p.parse_args(argv)
    if any(s < 0 for s in args.seeds):
        raise LabError("--seeds must be non-negative integers")
    if not (0 <= args.source <= 9 and 0 <= args.target <= 9) or args.source == args.target:
        raise LabError("--source and --target must be two different classes in 0-9")
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="privacy-bench-") as tmp:
        for seed in args.seeds:
            data, injected = silo_records(seed, args.poison_rate, args.source, args.target)
            flagged = flagged_ids(data, seed)
            print(f"seed {seed}: {len(injected)} injected, {len(flagged)} flagged "
                  f"({len(flagged & injected)} of them injected)", flush=True)
            for quarantine in (False, True):
                source = source_of(data, flagged if quarantine else set())
                for eps in EPSILONS:
                    out = Path(tmp) / f"s{seed}-q{int(quarantine)}-e{eps}"
                    row = {"seed": seed, "quarantine": quarantine, "epsilon_target": eps,
                           **train_once(source, eps, seed, args.source, args.target, out)}
                    rows.append(row)
                    eps_text = "no DP" if eps is None else f"ε<={eps:g} (ε={row['epsilon']:.2f})"
                    print(f"seed {seed} {'quarantined' if quarantine else 'raw        '} {eps_text:<20} "
                          f"accuracy {row['accuracy']:.3f}  attack success {row['attack_success']:6.1%}  "
                          f"({row['seconds']} s)", flush=True)
    print(f"\nworst seed over {args.seeds} (accuracy: lowest; attack success: highest)")
    for quarantine in (False, True):
        for eps in EPSILONS:
            sel = [r for r in rows if r["quarantine"] == quarantine and r["epsilon_target"] == eps]
            print(f"{'quarantined' if quarantine else 'raw':<12} {'no DP' if eps is None else f'ε<={eps:g}':<8} "
                  f"accuracy {min(r['accuracy'] for r in sel):.3f} (mean {statistics.mean(r['accuracy'] for r in sel):.3f})"
                  f"  attack success {max(r['attack_success'] for r in sel):6.1%}")
    path = plot(rows, args.plot)
    print(f"plot: {path}  ({time.perf_counter() - started:.0f} s)")
    print(json.dumps({"rows": rows, "seeds": args.seeds, "plot": str(path)}))
    return 0


if __name__ == "__main__":
    run_main(main)
