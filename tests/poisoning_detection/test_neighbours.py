"""The shared input-space k-NN answers exactly what a k-NN refitted per question would: the
leave-one-out vote never counts the sample itself, an exclusionary vote never counts a member of
the excluded group, and the shortlist shortcut gives the same neighbours as recomputing rows."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from poisoning_detection import attack
from poisoning_detection.detectors.neighbours import Neighbours
from poisoning_detection.detectors.trigger import trigger_groups


@pytest.fixture(scope="module")
def poisoned(digits_split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xtr, _, ytr, _ = digits_split
    return attack.add_backdoor(xtr, ytr, 0.1, source=None, target=1, seed=0)


def _refit_distances(x: np.ndarray, rows: np.ndarray, allowed: np.ndarray, k: int = 10) -> np.ndarray:
    """Sorted distances to the k nearest allowed samples, from a k-NN fitted on them alone."""
    flat = x.reshape(len(x), -1).astype(np.float64)
    nn = NearestNeighbors(n_neighbors=k).fit(flat[allowed])
    return nn.kneighbors(flat[rows])[0]


def _distances(x: np.ndarray, rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1).astype(np.float64)
    return np.sort(np.sqrt(((flat[chosen] - flat[rows][:, None, :]) ** 2).sum(-1)), axis=1)


@pytest.mark.parametrize("shortlist", [128, 3])  # 3: every question recomputes its rows
def test_excluded_neighbours_are_the_nearest_outside_the_group(poisoned, shortlist: int) -> None:
    x, y, _ = poisoned
    nb = Neighbours(x, y, shortlist=shortlist, block_cells=50_000)  # small blocks: several per question
    groups = trigger_groups(x, y, 1, max_share=0.95)
    assert groups
    for group in groups:
        m = group.members
        chosen = nb.nearest(m, exclude=m)
        assert chosen.shape == (len(m), 10) and not np.isin(chosen, m).any()
        outside = np.ones(len(y), bool)
        outside[m] = False
        np.testing.assert_allclose(_distances(x, m, chosen), _refit_distances(x, m, outside), atol=1e-4)
    assert (nb.recomputed > 0) == (shortlist == 3)


def test_leave_one_out_never_counts_the_sample_itself(poisoned) -> None:
    x, y, _ = poisoned
    nb = Neighbours(x, y)
    rows = np.arange(len(y))
    chosen = nb.nearest(rows)
    assert not (chosen == rows[:, None]).any()
    flat = x.reshape(len(x), -1).astype(np.float64)
    ref = NearestNeighbors(n_neighbors=11).fit(flat).kneighbors(flat)[0][:, 1:]  # column 0: itself
    np.testing.assert_allclose(_distances(x, rows, chosen), ref, atol=1e-4)
    votes, vote_share, self_share = nb.leave_one_out()
    counts = (y[chosen][:, :, None] == np.arange(10)).sum(1)
    assert (votes == counts.argmax(1)).all()
    assert np.allclose(vote_share, counts.max(1) / 10) and np.allclose(self_share, counts[rows, y] / 10)


def test_a_triggered_group_looks_like_its_sources_only_without_itself(poisoned) -> None:
    x, y, _ = poisoned
    nb = Neighbours(x, y)
    zeros_relabelled = np.flatnonzero((y == 1) & (x.reshape(len(x), -1)[:, -1] > 0.99))
    # the triggered records of class 1 (drawn from every other class): without each other, few look like '1'
    assert (nb.excluded_votes(zeros_relabelled) != 1).mean() >= 0.9


def test_questions_that_leave_too_few_samples() -> None:
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0, 0, 1, 1, 2, 2])
    nb = Neighbours(x, y, k=10)
    assert nb.nearest(np.arange(6)).shape == (6, 5)  # only five others exist
    assert nb.nearest(np.array([0]), exclude=np.array([0, 1, 2, 3])).shape == (1, 2)
    everyone = np.arange(6)
    assert (nb.excluded_votes(everyone) == y).all()  # nothing left outside: own labels


def test_rows_named_in_also_never_vote(poisoned) -> None:
    x, y, _ = poisoned
    nb = Neighbours(x, y)
    members = np.flatnonzero(y == 6)[:20]
    also = np.flatnonzero(y == 1)
    votes = nb.excluded_votes(members, also=also)
    assert not (votes == 1).any()  # no '1' is left to vote
    chosen = nb.nearest(members, exclude=np.union1d(members, also))
    assert not np.isin(chosen, also).any() and not np.isin(chosen, members).any()
