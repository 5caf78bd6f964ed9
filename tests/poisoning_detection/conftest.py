"""Shared fixtures: models trained once per session on sklearn digits (seconds, not minutes)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from poisoning_detection import api, attack, data


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits_split() -> tuple[np.ndarray, ...]:
    x, y = data.digits()
    return data.split(x, y, 0.2, 0)


@pytest.fixture(scope="session")
def backdoor_scan(digits_split: tuple[np.ndarray, ...]) -> tuple[api.Scan, np.ndarray]:
    """Digits with 20 % of class 0 triggered and relabelled 1; returns (scan, truth mask)."""
    xtr, _, ytr, _ = digits_split
    xp, yp, truth = attack.add_backdoor(xtr, ytr, 0.2, source=0, target=1, seed=0)
    producers = np.where(truth, "producer-mallory", np.where(np.arange(len(yp)) % 2, "producer-a", "producer-b"))
    ds = data.from_arrays(xp.reshape(len(xp), -1), yp, ids=np.array([f"r{i}" for i in range(len(yp))]),
                          producers=producers)
    return api.run_scan(ds, seed=0, progress=False), truth


@pytest.fixture(scope="session")
def clean_scan(digits_split: tuple[np.ndarray, ...]) -> api.Scan:
    xtr, _, ytr, _ = digits_split
    return api.run_scan(data.Dataset(xtr, ytr), seed=0, progress=False)
