from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lab.cli import LabError
from poisoning_detection import data


def test_square_rows_become_images_and_others_stay_flat() -> None:
    y = np.repeat(np.arange(2), 30)
    assert data.from_arrays(np.ones((60, 64)) * 16, y).x.shape == (60, 1, 8, 8)
    assert data.from_arrays(np.ones((60, 10)), y).x.shape == (60, 10)
    assert data.from_arrays(np.ones((60, 28, 28)), y).x.shape == (60, 1, 28, 28)
    assert data.from_arrays(np.ones((60, 12)), y, shape=(3, 4)).x.shape == (60, 1, 3, 4)
    ds = data.from_arrays(np.full((60, 64), 16.0), y)
    assert ds.x.max() == 1.0 and ds.scale == 16.0


@pytest.mark.parametrize("kwargs, message", [
    ({"x": np.ones((60, 64)), "y": np.zeros(59, int)}, "same number of rows"),
    ({"x": np.ones((60, 64)), "y": np.zeros(60, float)}, "integer"),
    ({"x": np.ones((60, 64)), "y": np.zeros(60, int)}, "two classes"),
    ({"x": np.full((60, 64), np.nan), "y": np.repeat([0, 1], 30)}, "finite"),
    ({"x": np.ones((60, 64)), "y": np.repeat([0, 1], 30), "ids": np.array(["a"] * 60)}, "unique"),
    ({"x": np.ones((60, 12)), "y": np.repeat([0, 1], 30), "shape": (3, 5)}, "does not match"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(LabError, match=message):
        data.from_arrays(**kwargs)


def test_npz_without_y_and_bad_shape_text(tmp_path: Path) -> None:
    path = tmp_path / "no_y.npz"
    np.savez(path, x=np.ones((60, 64), np.float32))
    with pytest.raises(LabError, match="lacks"):
        data.load_npz(path)
    with pytest.raises(LabError, match="no such file"):
        data.load_npz(tmp_path / "missing.npz")
    with pytest.raises(LabError, match="8x8"):
        data.parse_shape("eight")
