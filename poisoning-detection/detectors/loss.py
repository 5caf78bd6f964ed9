"""Loss-based outliers: per-sample cross-entropy of the *early* model (a few epochs in).

Early in training a network fits what inputs look like; a flipped label, or a trigger
not yet learned, costs a high loss. Per-class verdict: the class's median loss is an
outlier among classes (robust z > 3).
"""
from __future__ import annotations

import numpy as np

from poisoning_detection.detectors.base import ClassVerdict, Context, DetectorResult
from poisoning_detection.detectors.spectral import robust_z


class LossOutliers:
    name = "loss"

    def run(self, ctx: Context) -> DetectorResult:
        p = ctx.early_probs[np.arange(len(ctx.y)), ctx.y]
        scores = -np.log(np.clip(p, 1e-12, 1.0))
        medians = np.array([np.median(scores[ctx.y == c]) for c in ctx.classes])
        z = robust_z(medians)
        verdicts = {c: ClassVerdict(bool(z[i] > 3), {"median_loss": round(float(medians[i]), 4)})
                    for i, c in enumerate(ctx.classes)}
        return DetectorResult(self.name, scores, verdicts)
