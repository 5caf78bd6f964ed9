"""Detector inputs whose truth only the grader knows: a fresh backdoor (or none) per grading run.

The attack is this checkout's (``poisoning_detection.attack.add_backdoor``) on the digits,
with the source class, target class, rate and sample order drawn from the run's seed; ids
are random strings, so nothing in the file says which sample is poison.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import numpy as np


#: Samples per set: about a silo's share of the digits (the detector's cost grows with the set;
#: on all 1797 digits one scan took 21 min wall on this overloaded 2-core machine).
SET_SIZE = 700


def make_set(out: Path, seed: int, kind: str) -> dict[str, Any]:
    """Write ``out`` (.npz with x, y, ids); return the truth (poisoned ids, source, target)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from poisoning_detection.attack import add_backdoor

    rng = np.random.default_rng(seed)
    bunch = load_digits()
    keep, _ = train_test_split(np.arange(len(bunch.target)), train_size=SET_SIZE, stratify=bunch.target,
                               random_state=int(rng.integers(1 << 30)))
    x = (bunch.data[keep] / 16.0).astype(np.float32)
    y = bunch.target[keep].astype(np.int64)
    truth: dict[str, Any] = {"kind": kind, "poisoned": [], "source": None, "target": None, "rate": 0.0}
    if kind == "backdoor":
        source, target = (int(c) for c in rng.choice(10, size=2, replace=False))
        rate = float(rng.choice([0.15, 0.2, 0.3]))
        x, y, mask = add_backdoor(x, y, rate, source=source, target=target, seed=int(rng.integers(1 << 30)))
        truth.update(source=source, target=target, rate=rate)
    else:
        mask = np.zeros(len(y), bool)
    order = rng.permutation(len(y))
    ids = np.array([secrets.token_hex(6) for _ in order])
    np.savez(out, x=x[order].astype(np.float32), y=y[order], ids=ids)
    truth["poisoned"] = [str(i) for i in ids[mask[order]]]
    truth["n"] = int(len(y))
    return truth
