"""Gradient similarity: how far a sample's last-layer gradient points from its class's.

For cross-entropy the last-layer weight gradient of one sample is the outer product
(softmax − onehot) ⊗ [h, 1], computed here in closed form from the early model (no
autograd pass). Gradients are unit-normalised so a few large ones cannot dominate the
class mean; the score is 1 − cosine to that mean (0 = typical, 2 = opposite).
Per-class verdict: the class's mean similarity is an outlier among classes.
"""
from __future__ import annotations

import numpy as np

from poisoning_detection.detectors.base import ClassVerdict, Context, DetectorResult
from poisoning_detection.detectors.spectral import robust_z


def last_layer_gradients(probs: np.ndarray, feats: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample ∂CE/∂(W, b) of the last linear layer, flattened and unit-normalised."""
    err = probs.copy()
    err[np.arange(len(y)), y] -= 1.0
    h = np.hstack([feats, np.ones((len(feats), 1), feats.dtype)])
    g = (err[:, :, None] * h[:, None, :]).reshape(len(y), -1)
    return g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)


class GradientSimilarity:
    name = "gradient"

    def run(self, ctx: Context) -> DetectorResult:
        g = last_layer_gradients(ctx.early_probs, ctx.early_features, ctx.y)
        scores = np.zeros(len(ctx.y))
        means = []
        for c in ctx.classes:
            idx = np.flatnonzero(ctx.y == c)
            mu = g[idx].mean(0)
            mu /= max(float(np.linalg.norm(mu)), 1e-12)
            scores[idx] = 1.0 - g[idx] @ mu
            means.append(float(scores[idx].mean()))
        z = robust_z(np.array(means))
        verdicts = {c: ClassVerdict(bool(z[i] > 3), {"mean_dissimilarity": round(means[i], 4)})
                    for i, c in enumerate(ctx.classes)}
        return DetectorResult(self.name, scores, verdicts)
