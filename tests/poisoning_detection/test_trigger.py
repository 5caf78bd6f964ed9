"""`trigger_groups` skips the quantile of pixels that can never be lit often enough; it must find
exactly the groups that computing every pixel's quantile finds."""
from __future__ import annotations

import numpy as np
import pytest

from poisoning_detection import attack
from poisoning_detection.detectors import trigger


def _every_pixel(x: np.ndarray, y: np.ndarray, c: int, max_share: float) -> set[bytes]:
    """The groups, from every pixel's threshold (no shortcut)."""
    flat = x.reshape(len(x), -1)
    in_c = y == c
    span = float(flat.max() - flat.min())
    hot = flat[in_c] > np.quantile(flat[~in_c], trigger.QUANTILE, axis=0) + trigger.MARGIN * span
    share = hot.mean(0)
    ranked = np.argsort(-share, kind="stable")[:8]
    pixels = [p for p in ranked if hot[:, p].sum() >= trigger.MIN_GROUP and share[p] <= max_share]
    idx = np.flatnonzero(in_c)
    pairs = (idx[hot[:, p] & hot[:, q]] for i, p in enumerate(pixels) for q in pixels[i + 1:])
    return {m.tobytes() for m in pairs if trigger.MIN_GROUP <= len(m) < max_share * len(idx)}


@pytest.mark.parametrize(("source", "rate"), [(0, 0.1), (None, 0.05), (None, 0.33)])
def test_groups_equal_those_from_every_pixel(digits_split, source: int | None, rate: float) -> None:
    xtr, _, ytr, _ = digits_split
    x, y, _ = attack.add_backdoor(xtr, ytr, rate, source=source, target=1, seed=0)
    found = 0
    for c in range(10):
        for max_share in (0.5, 0.95):
            groups = trigger.trigger_groups(x, y, c, max_share=max_share)
            assert {g.members.tobytes() for g in groups} == _every_pixel(x, y, c, max_share)
            found += len(groups)
    assert found  # the comparison saw groups, not only empty lists


def test_one_lit_pixels_object_answers_like_the_one_off_functions(digits_split) -> None:
    xtr, _, ytr, _ = digits_split
    x, y, truth = attack.add_backdoor(xtr, ytr, 0.1, source=0, target=1, seed=0)
    members = np.concatenate([np.flatnonzero(truth), np.flatnonzero((y == 1) & ~truth)[:5]])  # + 5 clean '1's
    lit = trigger.LitPixels(x, members, y == 0)
    pixels = lit.shared()
    assert len(pixels) >= trigger.MIN_TRIGGER_PIXELS and pixels == trigger.shared_pixels(x, members, y == 0)
    assert (lit.carriers(pixels) == trigger.carriers(x, members, y == 0, pixels)).all()
    assert set(lit.carriers(pixels).tolist()) <= set(np.flatnonzero(truth).tolist())


def test_a_small_attack_on_a_larger_target_forms_a_group() -> None:
    """The lower bound is a count of records, not a share of the target class: 8 triggered rows in
    a target class of 300 (2.7 %) form a group; 4 (fewer than `MIN_GROUP`) do not."""
    rng = np.random.default_rng(0)
    x = rng.random((450, 30)).astype(np.float32) * 0.5
    y = np.r_[np.zeros(150, int), np.ones(300, int)]
    for n, expected in ((8, True), (trigger.MIN_GROUP - 1, False)):
        xp = x.copy()
        xp[150:150 + n, [3, 7]] = 1.0  # two features at an extreme value, in n rows of class 1
        groups = trigger.trigger_groups(xp, y, 1, max_share=0.95)
        assert any(set(g.members.tolist()) == set(range(150, 150 + n)) for g in groups) is expected
    assert trigger.trigger_groups(x, y, 1, max_share=0.95) == []  # no extreme values: no group
