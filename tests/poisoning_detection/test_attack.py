from __future__ import annotations

import numpy as np
import pytest

from poisoning_detection import attack


def test_trigger_is_drawn_in_the_corner_of_8x8_and_28x28_and_flat_rows() -> None:
    for side in (8, 28):
        x = np.zeros((2, 1, side, side), np.float32)
        out = attack.add_trigger(x, value=1.0)
        assert out.sum() == 2 * 4
        assert out[0, 0, side // 2:, side // 2:].sum() == 4  # bottom-right quadrant only
        assert x.sum() == 0  # input untouched
    flat = attack.add_trigger(np.zeros((3, 64), np.float32), value=1.0)
    assert flat.shape == (3, 64) and flat.sum() == 12
    assert np.array_equal(flat.reshape(3, 8, 8), attack.add_trigger(np.zeros((3, 8, 8), np.float32), 1.0))


def test_trigger_rejects_non_square_rows() -> None:
    with pytest.raises(ValueError):
        attack.add_trigger(np.zeros((2, 10), np.float32))


def test_backdoor_poisons_the_requested_share_of_the_source_only() -> None:
    y = np.repeat(np.arange(10), 50)
    x = np.random.default_rng(0).random((500, 1, 8, 8)).astype(np.float32) * 0.5
    xp, yp, mask = attack.add_backdoor(x, y, 0.1, source=3, target=7, seed=1)
    assert mask.sum() == 5 and (y[mask] == 3).all() and (yp[mask] == 7).all()
    assert np.array_equal(yp[~mask], y[~mask]) and np.array_equal(xp[~mask], x[~mask])
    assert (xp[mask][:, 0, -2, -2] == x.max()).all()
    _, _, all2one = attack.add_backdoor(x, y, 0.1, source=None, target=7, seed=1)
    assert all2one.sum() == 45 and not (y[all2one] == 7).any()
    with pytest.raises(ValueError):
        attack.add_backdoor(x, y, 0.0, source=3, target=7)


def test_label_flips_always_change_the_label() -> None:
    y = np.repeat(np.arange(10), 20)
    flipped, mask = attack.flip_labels(y, 0.1, seed=0)
    assert mask.sum() == 20 and (flipped[mask] != y[mask]).all() and (flipped[~mask] == y[~mask]).all()


def test_each_trigger_family_changes_what_it_says_and_keeps_the_input() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((60, 1, 8, 8)) * 0.3).astype(np.float32)
    x[:30, :, 2:5, 2:5] = 1.0  # class 0 writes in the middle
    y = np.repeat([0, 1], 30)
    dark = attack.TRIGGERS["dark"](x, y, 0, 0)
    assert dark.mask.sum() == 4 and (dark.apply(x[:3])[dark.mask.astype(bool)[None].repeat(3, 0)] == x.min()).all()
    assert dark.mask[0, 2:5, 2:5].sum() == 4  # ink removed where the source writes
    mixed = attack.TRIGGERS["mixed"](x, y, 0, 0)
    inside = mixed.pattern[mixed.mask.astype(bool)]
    assert inside.max() == 1.0 and inside.min() == x.min()  # both signs
    blend = attack.TRIGGERS["blend"](x, y, 0, 0)
    moved = blend.apply(x) - x
    assert np.allclose(moved, 0.15 * (blend.pattern - x), atol=1e-6) and np.abs(moved).max() <= 0.15
    before = x.copy()
    xp, yp, truth = attack.add_backdoor(x, y, 0.2, source=0, target=1, seed=0, trigger=mixed)
    assert np.array_equal(x, before) and truth.sum() == 6 and (yp[truth] == 1).all()
    assert np.allclose(xp[truth], mixed.apply(x[truth]))


def test_feature_trigger_sets_columns_to_both_extremes_and_refuses_images() -> None:
    x = np.random.default_rng(1).random((40, 30)).astype(np.float32)
    trig = attack.TRIGGERS["feature"](x, np.zeros(40, int), 0, 0)
    cols = np.flatnonzero(trig.mask)
    out = trig.apply(x)
    at_max = out[0, cols] == x[:, cols].max(0)
    at_min = out[0, cols] == x[:, cols].min(0)
    assert len(cols) == 3 and at_max.sum() == 2 and at_min.sum() == 1  # both extremes
    assert (out[:, cols] == out[0, cols]).all() and np.array_equal(np.delete(out, cols, 1), np.delete(x, cols, 1))
    with pytest.raises(ValueError):
        attack.TRIGGERS["feature"](np.zeros((4, 1, 8, 8), np.float32), np.zeros(4, int), 0, 0)
    with pytest.raises(ValueError):
        attack.TRIGGERS["dark"](x, np.zeros(40, int), 0, 0)
