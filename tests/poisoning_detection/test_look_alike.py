"""Look-alike groups and the completion of an attacked class, on synthetic representations (no
training): a group that sits together in the representation is poison, a scattered one is not,
and the two-component completion adds the members HDBSCAN would have left out, no clean row."""
from __future__ import annotations

import numpy as np

from poisoning_detection.detectors.look_alike import AFFINITY, affinity
from poisoning_detection.fusion import complete


def _class_with_group(scattered: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    feats = rng.normal(0, 1, (300, 16))
    members = np.arange(20)
    if not scattered:
        feats[members] = rng.normal(0, 0.3, (20, 16)) + 4.0  # a tight cluster away from the class
    return feats, np.ones(300, bool), members


def test_a_tight_group_has_high_affinity_and_a_scattered_one_low() -> None:
    assert affinity(*_class_with_group(scattered=False)) >= 0.9
    assert affinity(*_class_with_group(scattered=True)) < AFFINITY


def test_completion_adds_the_rest_of_the_attack_and_no_clean_row() -> None:
    feats, in_class, members = _class_with_group(scattered=False)
    seed = np.zeros(300, bool)
    seed[members[:8]] = True  # the part a cluster found
    found = complete(feats, in_class, seed)
    assert set(np.flatnonzero(found)) == set(members.tolist())
    other_class = np.zeros(300, bool)
    other_class[150:] = True
    assert not (complete(feats, other_class, seed) & ~other_class).any()  # never leaves its class
