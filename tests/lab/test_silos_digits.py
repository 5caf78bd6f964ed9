"""lab.silos names the silos once; lab.digits loads, scales and splits the sample data once."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from lab import digits
from lab.silos import SILOS, check_silo, parse_silos


def test_silo_names_and_subsets() -> None:
    assert SILOS == ("aws", "azure", "gcp")
    assert parse_silos("azure, aws,azure") == ("azure", "aws")
    assert check_silo("gcp") == "gcp"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown silo"):
        parse_silos("aws,ibm")
    with pytest.raises(argparse.ArgumentTypeError, match="at least one"):
        parse_silos(" , ")
    with pytest.raises(ValueError, match="unknown silo 'ibm'"):
        check_silo("ibm")


def test_digits_are_scaled_once_and_read_only() -> None:
    x, y = digits.pixels()
    assert x.dtype == np.float32 and x.shape == (1797, 64) and 0 <= x.min() and x.max() == 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    with pytest.raises(ValueError):
        x[0, 0] = 5.0  # the cached copy cannot be changed by one caller for all the others
    images, _ = digits.images()
    images[0, 0, 0, 0] = 5.0  # images() hands out a copy
    assert digits.pixels()[0][0, 0] != 5.0


def test_split_is_disjoint_and_covers_every_image() -> None:
    train, test = digits.holdout_split()
    shares = [set(digits.silo_share(s).tolist()) for s in SILOS]
    assert set(train).isdisjoint(test) and len(train) + len(test) == 1797
    assert set().union(*shares) == set(train.tolist())
    assert all(a.isdisjoint(b) for i, a in enumerate(shares) for b in shares[i + 1:])
    x_test, y_test = digits.test_images()
    assert len(x_test) == len(test) == len(y_test)
