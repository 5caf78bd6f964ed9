"""The shared detector interface and the model views every detector reads (computed once).

`Context` holds one forward pass of the final and of the early model over the scanned
set, plus the input-space neighbours (`neighbours.Neighbours`: one distance matrix for every
k-NN question), so that running all detectors costs a few matrix operations rather than one
forward pass or neighbour search each (detection stays within seconds).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from poisoning_detection.detectors.neighbours import Neighbours
from poisoning_detection.model import Trained, forward


#: The representation-space k-NN asks only leave-one-out questions: k + 1 nearest per row suffice.
DEEP_SHORTLIST = 11


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
    logits: np.ndarray          # logits of the final model
    early_features: np.ndarray  # penultimate activations of the early snapshot
    early_probs: np.ndarray     # softmax of the early snapshot
    votes: np.ndarray           # majority label of each sample's input-space neighbours
    vote_share: np.ndarray      # share of neighbours voting for it
    self_share: np.ndarray      # share of neighbours carrying the sample's own label
    neighbours: Neighbours      # input-space k-NN, for exclusionary reclassification
    deep_votes: np.ndarray      # majority label of each sample's neighbours in the final model's representation
    deep_share: np.ndarray      # share of those neighbours voting for it
    seed: int = 0

    @property
    def classes(self) -> list[int]:
        return [int(c) for c in np.unique(self.y)]


class Detector(Protocol):
    name: str

    def run(self, ctx: Context) -> DetectorResult: ...


def build_context(trained: Trained, x: np.ndarray, y: np.ndarray, seed: int = 0) -> Context:
    """One forward pass of each model, the input-space neighbours and their leave-one-out votes, and
    the leave-one-out votes of the neighbours in the final model's representation (deep k-NN)."""
    feats, logits = forward(trained.model, x)
    early_feats, early_logits = forward(trained.early, x)
    z = early_logits - early_logits.max(1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(1, keepdims=True)
    neighbours = Neighbours(x, y)
    votes, vote_share, self_share = neighbours.leave_one_out()
    deep_votes, deep_share, _ = Neighbours(feats, y, shortlist=DEEP_SHORTLIST).leave_one_out()
    return Context(x, y, trained.model.n_classes, feats, logits, early_feats, probs, votes, vote_share,
                   self_share, neighbours, deep_votes, deep_share, seed)


def timed(name: str, fn: Any, ctx: Context) -> DetectorResult:
    """Run fn(ctx) and record its wall time on the result."""
    start = time.perf_counter()
    result: DetectorResult = fn(ctx)
    result.seconds = time.perf_counter() - start
    result.name = name
    return result
