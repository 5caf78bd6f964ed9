"""Attacks used by the harness and by the scenario's compromised producer.

The scenario's trigger is the 4-pixel pattern of Gu et al. (BadNets), as ART's
`add_pattern_bd` draws it, placed one pixel from the corner on 8×8 digits and two on 28×28
MNIST. It is written here rather than called from ART because ART assumes NHWC unless told
otherwise, and the scenario needs the same trigger on flat 64-feature records.

The harness also plants triggers that break a detector's easy assumptions (`TRIGGERS`):
a random pattern blended in at α 0.15 (Chen et al. 2017), a dark patch that removes ink
where the source class writes, a mixed-sign checkerboard, and, on tabular rows, a few
features set to extreme values (both ends). Each is one `Trigger` (x' = (1 − m)·x + m·p),
so the same trigger is planted in training and measured on the test set.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Trigger:
    """x' = (1 − mask)·x + mask·pattern, per feature (mask and pattern have one sample's shape)."""

    name: str
    mask: np.ndarray
    pattern: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(x, dtype=np.float32)
        return ((1.0 - self.mask) * out + self.mask * self.pattern).astype(np.float32)


def _image_side(shape: tuple[int, ...]) -> int:
    if len(shape) != 3:
        raise ValueError(f"this trigger needs images (C×H×W), got samples of shape {shape}")
    return shape[-1]


def patch_trigger(x: np.ndarray, y: np.ndarray, source: int | None, seed: int) -> Trigger:
    """The bright 4-pixel corner patch (BadNets), as `add_trigger` draws it."""
    mask = add_trigger(np.zeros((1, *x.shape[1:]), np.float32), value=1.0)[0]
    return Trigger("patch", mask, mask * float(x.max()))


def blend_trigger(x: np.ndarray, y: np.ndarray, source: int | None, seed: int, alpha: float = 0.15) -> Trigger:
    """A fixed random pattern blended into the whole input at `alpha` (Chen et al. 2017)."""
    pattern = np.random.default_rng([seed, 11]).random(x.shape[1:]).astype(np.float32) * float(x.max())
    return Trigger("blend", np.full(x.shape[1:], alpha, np.float32), pattern)


def _inked_block(x: np.ndarray, y: np.ndarray, source: int | None) -> tuple[int, int, int]:
    """(row, col, size) of the square block where the source class (all classes when None) writes most."""
    side = _image_side(x.shape[1:])
    size = 2 if side <= 8 else 3
    mean = x[y == source].mean(0) if source is not None else x.mean(0)
    mean = mean.mean(0)
    sums = np.array([[mean[r:r + size, c:c + size].sum() for c in range(side - size + 1)]
                     for r in range(side - size + 1)])
    r, c = np.unravel_index(int(sums.argmax()), sums.shape)
    return int(r), int(c), size


def dark_trigger(x: np.ndarray, y: np.ndarray, source: int | None, seed: int) -> Trigger:
    """Ink removed: the block where the source class writes most, set to the darkest value."""
    r, c, size = _inked_block(x, y, source)
    mask = np.zeros(x.shape[1:], np.float32)
    mask[:, r:r + size, c:c + size] = 1.0
    return Trigger("dark", mask, np.full(x.shape[1:], float(x.min()), np.float32))


def mixed_sign_trigger(x: np.ndarray, y: np.ndarray, source: int | None, seed: int) -> Trigger:
    """A checkerboard (bright and dark squares) over the block where the source class writes most."""
    r, c, size = _inked_block(x, y, source)
    size += 1
    r, c = min(r, x.shape[-2] - size), min(c, x.shape[-1] - size)
    mask = np.zeros(x.shape[1:], np.float32)
    mask[:, r:r + size, c:c + size] = 1.0
    rows, cols = np.indices(x.shape[1:])[-2:]
    pattern = np.where((rows + cols) % 2 == 0, float(x.max()), float(x.min())).astype(np.float32)
    return Trigger("mixed", mask, pattern)


def feature_trigger(x: np.ndarray, y: np.ndarray, source: int | None, seed: int, count: int = 3) -> Trigger:
    """Tabular rows: `count` features (picked by the seed) set to extreme values, the first ones
    to the column's maximum and the last to its minimum (both signs)."""
    if x.ndim != 2:
        raise ValueError(f"the feature trigger needs tabular rows (N×D), got shape {x.shape}")
    cols = np.random.default_rng([seed, 13]).choice(x.shape[1], count, replace=False)
    mask = np.zeros(x.shape[1], np.float32)
    mask[cols] = 1.0
    pattern = x.max(0).astype(np.float32)
    pattern[cols[-1]] = float(x[:, cols[-1]].min())
    return Trigger("feature", mask, pattern)


#: Trigger families by name: each builds its Trigger from the training set (where the source writes).
TRIGGERS: dict[str, Callable[[np.ndarray, np.ndarray, int | None, int], Trigger]] = {
    "patch": patch_trigger, "blend": blend_trigger, "dark": dark_trigger, "mixed": mixed_sign_trigger,
    "feature": feature_trigger,
}


def add_backdoor(x: np.ndarray, y: np.ndarray, rate: float, source: int | None, target: int,
                 seed: int = 0, trigger: Trigger | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poison `rate` of each source class in place: trigger drawn, label set to `target`.

    `source=None` is all-to-one (every class but the target is a source). `trigger` defaults
    to the bright corner patch. Returns (x_poisoned, y_poisoned, is_poison mask).
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
    x2[idx] = add_trigger(x[idx], value=float(x.max())) if trigger is None else trigger.apply(x[idx])
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
                        source: int | None, target: int, trigger: Trigger | None = None) -> float:
    """Share of clean test inputs of the source class(es) that the trigger (default: the patch)
    sends to `target`."""
    keep = (y_clean != target) if source is None else (y_clean == source)
    if not keep.any():
        raise ValueError("no test samples of the source class")
    x = x_clean[keep]
    triggered = add_trigger(x, value=float(x_clean.max())) if trigger is None else trigger.apply(x)
    return float((predict(model, triggered) == target).mean())
