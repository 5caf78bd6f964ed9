"""ex09 against the copy's detectors: who a cluster looks like, and the risk score."""
from __future__ import annotations

import numpy as np
import pytest

from poisoning_detection.detectors.activation_clustering import looks_like


def test_ex09_looks_like_names_the_other_class_and_its_share() -> None:
    votes = np.array([3, 3, 3, 1, 1, 7])
    source, share = looks_like(votes, 1)
    assert source == 3 and share == pytest.approx(0.5)


def test_ex09_looks_like_ignores_the_own_label() -> None:
    source, share = looks_like(np.array([1, 1, 1, 1, 2]), 1)
    assert source == 2 and share == pytest.approx(0.2)


def test_ex09_all_own_label_looks_like_nothing() -> None:
    assert looks_like(np.array([4, 4, 4]), 4) == (None, 0.0)
