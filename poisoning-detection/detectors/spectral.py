"""Spectral signatures (Tran et al. 2018) with centred representations.

ART 1.20 projects *uncentred* activations and removes 1.5× the expected poison share of
every class. Here each class's penultimate activations are centred before taking the top
singular vector (as the paper does); the score is the squared projection. The per-class
verdict does not assume a poison rate: a class is suspicious when its score distribution
has a heavy right tail (more than 2 % of its samples beyond median + 6·MAD).
"""
from __future__ import annotations

import numpy as np

from poisoning_detection.detectors.base import ClassVerdict, Context, DetectorResult


def robust_z(values: np.ndarray) -> np.ndarray:
    """(v - median) / (1.4826·MAD): a z-score that poison cannot drag."""
    med = np.median(values)
    mad = 1.4826 * np.median(np.abs(values - med)) or (values.std() or 1.0)
    return (values - med) / mad


class SpectralSignatures:
    name = "spectral_signatures"

    def run(self, ctx: Context) -> DetectorResult:
        scores = np.zeros(len(ctx.y))
        verdicts: dict[int, ClassVerdict] = {}
        for c in ctx.classes:
            idx = np.flatnonzero(ctx.y == c)
            centred = ctx.features[idx] - ctx.features[idx].mean(0)
            top = np.linalg.svd(centred, full_matrices=False)[2][0]
            s = (centred @ top) ** 2
            scores[idx] = s
            tail = float((robust_z(s) > 6).mean())
            verdicts[c] = ClassVerdict(tail > 0.02, {"tail_share": round(tail, 4)})
        return DetectorResult(self.name, scores, verdicts)
