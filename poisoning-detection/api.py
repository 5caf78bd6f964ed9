"""The importable entry point: `scan(x, y, ...) -> Report`, and `run_scan` for callers that need the masks."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from poisoning_detection import fusion, model, provenance, report
from poisoning_detection.data import Dataset, from_arrays
from poisoning_detection.detectors.activation_clustering import ActivationClustering
from poisoning_detection.detectors.base import Context, DetectorResult, build_context, timed
from poisoning_detection.detectors.gradient import GradientSimilarity
from poisoning_detection.detectors.look_alike import LookAlikeGroups
from poisoning_detection.detectors.loss import LossOutliers
from poisoning_detection.detectors.spectral import SpectralSignatures

DETECTORS = (ActivationClustering(), LookAlikeGroups(), SpectralSignatures(), LossOutliers(), GradientSimilarity())


def default_epochs(n: int, batch: int = 64, steps: int = 900) -> int:
    """Enough optimizer steps for a backdoor to take (15 epochs on 4,000 samples, 30 on 1,400)."""
    return int(np.clip(-(-steps * batch // max(n, 1)), 10, 30))


@dataclass
class Scan:
    """Everything one scan produced: the report plus the arrays behind it."""

    report: report.Report
    fused: fusion.Fused
    results: dict[str, DetectorResult]
    context: Context
    trained: model.Trained
    dataset: Dataset


def trigger_pixels(x: np.ndarray, poisoned: np.ndarray, source_clean: np.ndarray, top: int = 4) -> list[list[int]]:
    """Where poisoned inputs differ most from clean inputs of the class they look like, in either
    direction (a dark patch removes ink: its pixels differ by a negative amount)."""
    if not poisoned.any() or not source_clean.any():
        return []
    diff = x[poisoned].mean(0) - x[source_clean].mean(0)
    diff = diff.mean(0) if diff.ndim == 3 else diff.reshape(1, -1)
    flat = np.argsort(-np.abs(diff), axis=None)[:top]
    return [[int(r), int(c)] for r, c in zip(*np.unravel_index(flat, diff.shape))]


def suspected_pairs(ds: Dataset, fused: fusion.Fused) -> list[report.Suspected]:
    pairs = []
    sources = fused.sources if fused.sources is not None else np.full(len(ds), -1)
    for t in np.unique(ds.y[fused.group]):
        for s in np.unique(sources[fused.flagged & (ds.y == t)]):
            members = fused.flagged & (ds.y == t) & (sources == s)
            if s < 0:  # flagged but named by no group (a flip in a class that is also attacked)
                continue
            clean_source = (ds.y == s) & ~fused.flagged
            pairs.append(report.Suspected(source=int(s), target=int(t), count=int(members.sum()),
                                          trigger_pixels=trigger_pixels(ds.x, members, clean_source)))
    return sorted(pairs, key=lambda p: -p.count)


def summarise(result: DetectorResult) -> report.MethodSummary:
    s = result.scores
    return report.MethodSummary(
        seconds=round(result.seconds, 3),
        classes_flagged=sorted(c for c, v in result.per_class.items() if v.poisoned),
        score_mean=round(float(s.mean()), 4), score_p50=round(float(np.median(s)), 4),
        score_p95=round(float(np.quantile(s, 0.95)), 4), score_max=round(float(s.max()), 4))


def run_scan(ds: Dataset, seed: int = 0, progress: bool = True, epochs: int | None = None,
             trained: model.Trained | None = None) -> Scan:
    """Train (unless a model is given), run every detector, fuse, and build the report."""
    import torch

    torch.manual_seed(seed)
    t0 = time.perf_counter()
    n_classes = int(ds.y.max()) + 1
    if trained is None:
        trained = model.train(ds.x, ds.y, epochs=epochs or default_epochs(len(ds)), seed=seed,
                              n_classes=n_classes, progress=progress)
    elif trained.model.input_shape != tuple(ds.x.shape[1:]) or trained.model.n_classes < n_classes:
        from lab.cli import LabError

        raise LabError(f"the model expects inputs {trained.model.input_shape} and {trained.model.n_classes} "
                       f"classes; the data has {tuple(ds.x.shape[1:])} and {n_classes}")
    t1 = time.perf_counter()
    ctx = build_context(trained, ds.x, ds.y, seed)
    results = {}
    for det in tqdm(DETECTORS, desc="detectors", disable=not progress, leave=False):
        results[det.name] = timed(det.name, det.run, ctx)
    fused = fusion.fuse(ctx, results)
    t2 = time.perf_counter()
    flagged_idx = np.flatnonzero(fused.flagged)
    flagged: list[str | int] = ds.ids[flagged_idx].tolist() if ds.ids is not None else flagged_idx.tolist()
    per_class = {}
    for c in ctx.classes:
        in_c = ds.y == c
        per_class[str(c)] = report.ClassReport(
            size=int(in_c.sum()), flagged=int((fused.flagged & in_c).sum()),
            poisoned=bool((fused.group & in_c).any() or (fused.flagged & in_c).sum() > 0.05 * in_c.sum()),
            sources=sorted({int(s) for s in fused.sources[fused.flagged & in_c] if s >= 0})
            if fused.sources is not None else [],
            detectors={name: r.per_class[c].poisoned for name, r in results.items()})
    table, suspects = ({}, [])
    if ds.producers is not None:
        table, suspects = provenance.attribute(ds.producers, fused.flagged, fused.risk_score)
    pairs = suspected_pairs(ds, fused)
    rep = report.Report(
        risk_score=fused.risk_score, found_share=fused.found_share, n_samples=len(ds), flagged=flagged, flagged_count=len(flagged),
        per_class=per_class, methods={**{k: summarise(r) for k, r in results.items()},
                                      "fused": summarise(DetectorResult("fused", fused.scores, {}))},
        suspected=pairs, producers=table, compromised_producers=suspects,
        mitigations=report.mitigations(flagged, pairs, suspects, fused.risk_score, fused.found_share),
        model={"epochs": trained.epochs, "early_epoch": trained.early_epoch,
               "train_accuracy": round(float((ctx.logits.argmax(1) == ds.y).mean()), 4)},
        seconds={"train": round(t1 - t0, 2), "detect": round(t2 - t1, 2)})
    return Scan(rep, fused, results, ctx, trained, ds)


def scan(x: np.ndarray, y: np.ndarray, ids: np.ndarray | None = None, producers: np.ndarray | None = None,
         seed: int = 0, progress: bool = True, shape: tuple[int, int] | None = None,
         epochs: int | None = None) -> report.Report:
    """Scan a training set for poisoning. x: N×D (square D is read as an image), N×H×W or N×C×H×W."""
    return run_scan(from_arrays(x, y, ids, producers, shape), seed, progress, epochs).report
