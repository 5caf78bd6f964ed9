"""Remediation loop: drop the flagged samples, retrain, and measure what changed.

Clean accuracy is measured on a held-out clean test set; attack success rate (ASR) is
the share of triggered test inputs of the source class(es) sent to the target.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from poisoning_detection import attack, model


@dataclass
class Remediation:
    removed: int
    clean_accuracy_before: float
    clean_accuracy_after: float
    attack_success_before: float | None
    attack_success_after: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def remediate(x: np.ndarray, y: np.ndarray, flagged: np.ndarray, before: model.Trained,
              x_test: np.ndarray, y_test: np.ndarray, source: int | None = None, target: int | None = None,
              seed: int = 0, epochs: int | None = None, progress: bool = True) -> tuple[Remediation, model.Trained]:
    """Retrain without `flagged` (same recipe and seed) and compare with `before`."""
    keep = ~flagged
    after = model.train(x[keep], y[keep], epochs=epochs or before.epochs, seed=seed,
                        n_classes=before.model.n_classes, progress=progress)

    def asr(m: model.Trained) -> float | None:
        return None if target is None else attack.attack_success_rate(m.model, x_test, y_test, source, target)

    return Remediation(int(flagged.sum()), model.accuracy(before.model, x_test, y_test),
                       model.accuracy(after.model, x_test, y_test), asr(before), asr(after)), after
