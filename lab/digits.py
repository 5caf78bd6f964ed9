"""The lab's sample data, loaded, scaled and split in one place.

scikit-learn's digits (1,797 8x8 images, labels 0-9) ship inside the package, so
nothing is downloaded. Every part reads them from here: the producers' records
(``ingestion.samples``), the federated model's held-out test set, the packaged FL
data source, the detector's harness and the grader. One split for the whole lab:
the held-out images are never sent by a producer, and each silo owns a fixed,
disjoint share of the rest.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from lab.silos import SILOS, check_silo

#: Largest raw pixel value of sklearn's digits (pixels are 0..16).
PIXEL_MAX = 16.0
#: Share of the images held out for evaluation (never ingested).
TEST_FRACTION = 0.2
#: Seed of the silo split: fixed, so shares stay disjoint whatever --seed is used.
SPLIT_SEED = 20261125
SHAPE = (8, 8)


@lru_cache(maxsize=1)
def pixels() -> tuple[np.ndarray, np.ndarray]:
    """(x, y): x is N x 64 float32 in [0, 1], y int64 labels. Cached; treat as read-only."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / PIXEL_MAX).astype(np.float32)
    x.setflags(write=False)
    y = bunch.target.astype(np.int64)
    y.setflags(write=False)
    return x, y


def images() -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with x as N x 1 x 8 x 8 images (what the detector's CNN takes); fresh, writable copies."""
    x, y = pixels()
    return x.reshape(len(x), 1, *SHAPE).copy(), y.copy()


@lru_cache(maxsize=1)
def holdout_split() -> tuple[np.ndarray, np.ndarray]:
    """(train, test) image indices, stratified, fixed seed."""
    from sklearn.model_selection import train_test_split

    _, y = pixels()
    train, test = train_test_split(np.arange(len(y)), test_size=TEST_FRACTION, random_state=0, stratify=y)
    return np.sort(train), np.sort(test)


def test_images() -> tuple[np.ndarray, np.ndarray]:
    """The held-out images (N x 64 features in [0, 1], labels): the FL server's evaluation set."""
    x, y = pixels()
    test = holdout_split()[1]
    return x[test], y[test]


def silo_share(silo: str) -> np.ndarray:
    """Indices of the training images this silo owns (disjoint across silos, fixed order)."""
    check_silo(silo)
    train = holdout_split()[0]
    order = train[np.random.default_rng(SPLIT_SEED).permutation(len(train))]
    return np.array_split(order, len(SILOS))[SILOS.index(silo)]
