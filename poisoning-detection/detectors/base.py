"""The shared detector interface and the model views every detector reads (computed once).

`Context` holds one forward pass of the final and of the early model over the scanned
set, plus the input-space neighbour votes, so that running all detectors costs a few
matrix operations rather than one forward pass each (detection stays under seconds).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from poisoning_detection.model import Trained, forward


@dataclass
class ClassVerdict:
    """Is this class poisoned, according to one detector, and why."""

    poisoned: bool
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class DetectorResult:
    """Per-sample suspicion (higher = more suspicious) and per-class verdicts."""

    name: str
    scores: np.ndarray
    per_class: dict[int, ClassVerdict]
    seconds: float = 0.0
    flagged: np.ndarray | None = None  # boolean mask, when the detector decides on its own
    sources: np.ndarray | None = None  # per flagged sample: the class it looks like (-1 otherwise)


@dataclass
class Context:
    """Everything the detectors read, computed once per scan."""

    x: np.ndarray
    y: np.ndarray
    n_classes: int
    features: np.ndarray        # penultimate activations of the final model
    early_features: np.ndarray  # penultimate activations of the early snapshot
    early_probs: np.ndarray     # softmax of the early snapshot
    votes: np.ndarray           # majority label of each sample's input-space neighbours
    vote_share: np.ndarray      # share of neighbours voting for it
    self_share: np.ndarray      # share of neighbours carrying the sample's own label
    seed: int = 0

    @property
    def classes(self) -> list[int]:
        return [int(c) for c in np.unique(self.y)]


class Detector(Protocol):
    name: str

    def run(self, ctx: Context) -> DetectorResult: ...


def neighbour_votes(x: np.ndarray, y: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leave-one-out k-NN vote in *input* space: what each sample looks like, ignoring its own label.

    A backdoor trigger is a few pixels, so it barely moves input-space distances: a
    triggered '0' labelled '1' still has '0's as neighbours. The votes serve as the cheap
    exclusionary reclassification (a classifier that never trained on the sample).
    """
    from sklearn.neighbors import NearestNeighbors

    flat = x.reshape(len(x), -1)
    k = min(k, len(x) - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(flat)
    idx = nn.kneighbors(flat, return_distance=False)
    # drop the sample itself (first column normally; exact duplicates may swap order): a stable
    # sort moves the self column last and keeps the others in distance order (vectorised: a
    # per-row Python loop was 1.5 s of the 2 s this took on 5,000 MNIST images)
    is_self = idx == np.arange(len(x))[:, None]
    rows = np.take_along_axis(idx, np.argsort(is_self, axis=1, kind="stable"), axis=1)[:, :k]
    labels = y[rows]
    n_classes = int(y.max()) + 1
    counts = (labels[:, :, None] == np.arange(n_classes)).sum(1)
    votes = counts.argmax(1)
    return votes, counts.max(1) / k, counts[np.arange(len(y)), y] / k


def reclassify(x: np.ndarray, y: np.ndarray, members: np.ndarray, k: int = 10) -> np.ndarray:
    """Exclusionary reclassification: k-NN labels for `members`, from every sample *outside* them.

    A cluster of triggered samples is closer to itself than to anything else (on 8×8
    digits four trigger pixels are 6 % of the image), so its members must not vote for
    each other. Returns the majority label per member.
    """
    from sklearn.neighbors import NearestNeighbors

    outside = np.ones(len(y), bool)
    outside[members] = False
    flat = x.reshape(len(x), -1)
    k = min(k, int(outside.sum()))
    if k < 1:
        return y[members]
    nn = NearestNeighbors(n_neighbors=k).fit(flat[outside])
    labels = y[outside][nn.kneighbors(flat[members], return_distance=False)]
    n_classes = int(y.max()) + 1
    return np.array([np.bincount(r, minlength=n_classes).argmax() for r in labels])


class ExcludedKNN:
    """`reclassify` for many candidate groups drawn from the same rows (one class's trigger groups).

    Each `reclassify` call fits a fresh k-NN on everything outside the group; on the MNIST
    subset ~240 overlapping trigger groups made that most of the detection time. Here the
    squared distances from `rows` to every sample are computed once (one matrix product),
    and each group only masks its own members out. Falls back to `reclassify` when that
    block would exceed `max_cells` floats (large sets), or for members outside `rows`.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, rows: np.ndarray, k: int = 10,
                 max_cells: int = 50_000_000) -> None:
        self.x, self.y, self.k = x, y, k
        self.local = np.full(len(y), -1)
        self.local[rows] = np.arange(len(rows))
        self.d: np.ndarray | None = None
        if len(rows) * len(y) <= max_cells:
            flat = x.reshape(len(x), -1).astype(np.float32)
            q = flat[rows]
            self.d = (q * q).sum(1)[:, None] - 2.0 * (q @ flat.T) + (flat * flat).sum(1)[None, :]

    def __call__(self, members: np.ndarray) -> np.ndarray:
        """The majority label of each member's k nearest samples outside `members`."""
        pos = self.local[members]
        if self.d is None or (pos < 0).any():
            return reclassify(self.x, self.y, members, self.k)
        outside = np.ones(len(self.y), bool)
        outside[members] = False
        k = min(self.k, int(outside.sum()))
        if k < 1:
            return self.y[members]
        d = self.d[pos]  # a copy: the members' own columns are masked out in it, not dropped
        d[:, members] = np.inf  # (dropping columns copied the block again: 2x slower)
        nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
        labels = self.y[nearest]
        n_classes = int(self.y.max()) + 1
        return np.array([np.bincount(r, minlength=n_classes).argmax() for r in labels])


def build_context(trained: Trained, x: np.ndarray, y: np.ndarray, seed: int = 0) -> Context:
    """One forward pass of each model and the neighbour votes."""
    feats, _ = forward(trained.model, x)
    early_feats, early_logits = forward(trained.early, x)
    z = early_logits - early_logits.max(1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(1, keepdims=True)
    votes, vote_share, self_share = neighbour_votes(x, y)
    return Context(x, y, trained.model.n_classes, feats, early_feats, probs, votes, vote_share, self_share, seed)


def timed(name: str, fn: Any, ctx: Context) -> DetectorResult:
    """Run fn(ctx) and record its wall time on the result."""
    start = time.perf_counter()
    result: DetectorResult = fn(ctx)
    result.seconds = time.perf_counter() - start
    result.name = name
    return result
