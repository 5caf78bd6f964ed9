"""Attacks used by the harness and by the scenario's compromised producer.

The trigger is the 4-pixel pattern of Gu et al. (BadNets), as ART's `add_pattern_bd`
draws it, placed one pixel from the corner on 8×8 digits and two on 28×28 MNIST. It is
written here rather than called from ART because ART assumes NHWC unless told
otherwise, and the scenario needs the same trigger on flat 64-feature records.
"""
from __future__ import annotations

import numpy as np

from poisoning_detection.model import SmallNet, predict


def trigger_offsets(height: int) -> list[tuple[int, int]]:
    """Pixel offsets from the bottom-right corner (row, col), as negative indices."""
    o = 1 if height <= 8 else 2
    return [(-o, -o), (-o - 1, -o - 1), (-o, -o - 2), (-o - 2, -o)]


def add_trigger(x: np.ndarray, value: float | None = None) -> np.ndarray:
    """A copy of x with the trigger drawn in. x: N×C×H×W, N×H×W, or N×D with D a square."""
    out = np.array(x, dtype=np.float32, copy=True)
    flat = out.ndim == 2
    if flat:
        side = int(round(np.sqrt(out.shape[1])))
        if side * side != out.shape[1]:
            raise ValueError(f"flat rows need a square number of features, got {out.shape[1]}")
        out = out.reshape(len(out), side, side)
    v = float(out.max()) if value is None else value
    for r, c in trigger_offsets(out.shape[-2]):
        out[..., r, c] = v
    return out.reshape(len(out), -1) if flat else out


def add_backdoor(x: np.ndarray, y: np.ndarray, rate: float, source: int | None, target: int,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poison `rate` of each source class in place: trigger drawn, label set to `target`.

    `source=None` is all-to-one (every class but the target is a source). Returns
    (x_poisoned, y_poisoned, is_poison mask).
    """
    if not 0 < rate <= 1:
        raise ValueError(f"rate must be in (0, 1], got {rate}")
    rng = np.random.default_rng(seed)
    sources = [source] if source is not None else [c for c in np.unique(y) if c != target]
    chosen: list[np.ndarray] = []
    for s in sources:
        members = np.flatnonzero(y == s)
        n = max(1, int(round(rate * len(members))))
        chosen.append(rng.choice(members, n, replace=False))
    idx = np.concatenate(chosen)
    x2, y2 = np.array(x, copy=True), np.array(y, copy=True)
    x2[idx] = add_trigger(x[idx], value=float(x.max()))
    y2[idx] = target
    mask = np.zeros(len(y), bool)
    mask[idx] = True
    return x2, y2, mask


def flip_labels(y: np.ndarray, rate: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Give `rate` of the samples a different, random label. Returns (y_flipped, is_poison mask)."""
    rng = np.random.default_rng(seed)
    k = int(y.max()) + 1
    idx = rng.choice(len(y), int(round(rate * len(y))), replace=False)
    y2 = np.array(y, copy=True)
    y2[idx] = (y[idx] + rng.integers(1, k, len(idx))) % k
    mask = np.zeros(len(y), bool)
    mask[idx] = True
    return y2, mask


def attack_success_rate(model: SmallNet, x_clean: np.ndarray, y_clean: np.ndarray,
                        source: int | None, target: int) -> float:
    """Share of clean test inputs of the source class(es) that the trigger sends to `target`."""
    keep = (y_clean != target) if source is None else (y_clean == source)
    if not keep.any():
        raise ValueError("no test samples of the source class")
    return float((predict(model, add_trigger(x_clean[keep], value=float(x_clean.max()))) == target).mean())
