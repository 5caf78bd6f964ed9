"""Hostile input to the poisoning detector and to federated learning: refused early, in one clear line.

The detector's API (`poisoning_detection.api.scan`) and CLI (`detect.py`) and FL's
config, data path and `run_simulation` must refuse malformed data before any
training starts (and, for FL, before Ray starts) with a LabError naming the problem
— never a numpy/torch traceback from deep inside, never a run that "succeeds" on
NaN. Each refused input is counted for docs/what_we_test.md (tests/faults/tally.py).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lab.cli import LabError
from lab.paths import REPO_ROOT
from tests.faults.tally import count

api = pytest.importorskip("poisoning_detection.api")
fl_config = pytest.importorskip("securefl.config")
fl_data = pytest.importorskip("securefl.data")
fl_run = pytest.importorskip("securefl.run")

DETECT = REPO_ROOT / "poisoning-detection" / "detect.py"
N = 60
RNG = np.random.default_rng(0)
X = RNG.random((N, 64)).astype(np.float32)
Y = np.repeat([0, 1, 2], N // 3)


def with_nan() -> np.ndarray:
    x = X.copy()
    x[5, 7] = np.nan
    return x


def with_inf() -> np.ndarray:
    x = X.copy()
    x[0, 0] = np.inf
    return x


# (case, kwargs for scan, what the message must name)
DETECTOR_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("1-D x", {"x": X[:, 0], "y": Y}, "N×D"),
    ("x with no features", {"x": np.zeros((N, 0), np.float32), "y": Y}, "empty axis"),
    ("5-D x", {"x": X.reshape(N, 1, 1, 8, 8), "y": Y}, "N×C×H×W"),
    ("x/y length mismatch", {"x": X, "y": Y[:-1]}, "same number of rows"),
    ("non-square features as an image", {"x": X[:, :60], "y": Y, "shape": (8, 8)}, "does not match"),
    ("NaN in x", {"x": with_nan(), "y": Y}, "finite"),
    ("inf in x", {"x": with_inf(), "y": Y}, "finite"),
    ("complex x", {"x": X.astype(np.complex64), "y": Y}, "real"),
    ("text x", {"x": X.astype(str), "y": Y}, "finite real numbers"),
    ("a single class", {"x": X, "y": np.zeros(N, np.int64)}, "two classes"),
    ("empty set", {"x": np.zeros((0, 64), np.float32), "y": np.zeros(0, np.int64)}, "at least 50"),
    ("too few samples", {"x": X[:10], "y": Y[:10]}, "at least 50"),
    ("float labels", {"x": X, "y": Y.astype(np.float64)}, "integer"),
    ("boolean labels", {"x": X, "y": Y == 1}, "integer"),
    ("2-D labels", {"x": X, "y": Y[:, None]}, "1-D integer"),
    ("negative labels", {"x": X, "y": Y - 1}, ">= 0"),
    ("ids of wrong length", {"x": X, "y": Y, "ids": np.arange(N - 1).astype(str)}, "ids must have one entry"),
    ("duplicate ids", {"x": X, "y": Y, "ids": np.array(["same"] * N)}, "unique"),
    ("producers of wrong length", {"x": X, "y": Y, "producers": np.array(["p"] * 3)}, "producers must have"),
]


@pytest.mark.parametrize("case, kwargs, message", DETECTOR_CASES, ids=[c[0] for c in DETECTOR_CASES])
def test_detector_api_refuses_bad_arrays(case: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LabError, match=message) as err:
        api.scan(progress=False, epochs=1, **kwargs)
    assert "\n" not in str(err.value)
    count(f"detector api: {case}", bad_inputs=1)


def write(path: Path, content: bytes | None = None, **arrays: np.ndarray) -> Path:
    if content is not None:
        path.write_bytes(content)
    else:
        np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


NPZ_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("npz without x", {"y": Y}, r"lacks array\(s\) \['x'\]"),
    ("npz without y", {"x": X}, r"lacks array\(s\) \['y'\]"),
    ("empty file", {"content": b""}, "not a readable .npz"),
    ("text file", {"content": b"x,y\n1,2\n"}, "not a readable .npz"),
    ("damaged zip", {"content": b"PK\x03\x04" + bytes(40)}, "not a readable .npz"),
    ("pickled objects", {"x": np.array([{"a": 1}] * N, dtype=object), "y": Y}, "not a readable .npz"),
]


@pytest.mark.parametrize("case, spec, message", NPZ_CASES, ids=[c[0] for c in NPZ_CASES])
def test_detector_npz_loader_refuses_bad_files(tmp_path: Path, case: str, spec: dict[str, Any], message: str) -> None:
    from poisoning_detection.data import load_npz

    path = write(tmp_path / "in.npz", **spec)
    with pytest.raises(LabError, match=message):
        load_npz(path)
    count(f"detector npz: {case}", bad_inputs=1)


def test_a_bare_npy_array_is_not_taken_for_an_archive(tmp_path: Path) -> None:
    from poisoning_detection.data import load_npz

    path = tmp_path / "x.npy"
    np.save(path, X)
    with pytest.raises(LabError, match="not a readable .npz"):
        load_npz(path)
    count("detector npz: bare .npy", bad_inputs=1)


def detect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DETECT), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case, spec, message", [
    ("not an npz", {"content": b"\x89PNG\r\n"}, "not a readable .npz"),
    ("NaN in x", {"x": with_nan(), "y": Y}, "finite"),
    ("single class", {"x": X, "y": np.zeros(N, np.int64)}, "two classes"),
], ids=["not-npz", "nan", "single-class"])
def test_detect_cli_exits_nonzero_with_one_line(tmp_path: Path, case: str, spec: dict[str, Any], message: str) -> None:
    path = write(tmp_path / "in.npz", **spec)
    out = tmp_path / "report.json"
    proc = detect("--data", str(path), "--out", str(out), "--quiet")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and len(lines) == 1 and message in lines[0], proc.stderr
    assert not out.exists()  # nothing claimed on bad input
    count(f"detector cli: {case}", bad_inputs=1)


# ---- federated learning -----------------------------------------------------------------

CONFIG_CASES = [
    ({"num-clients": 1}, "num-clients"),
    ({"num-clients": "three"}, "num-clients"),
    ({"learning-rate": float("nan")}, "learning-rate"),
    ({"learning-rate": float("inf")}, "learning-rate"),
    ({"batch-size": 0}, "batch-size"),
    ({"dirichlet-alpha": -1.0}, "dirichlet-alpha"),
    ({"partition": "by-silo"}, "partition"),
    ({"delta": 1.5}, "delta"),
    ({"attack": "sign-flip", "attackers": 0}, "attackers"),
    ({"drop-client": 99}, "drop-client"),
    ({"no-such-setting": 1}, "no-such-setting"),
]


@pytest.mark.parametrize("override, message", CONFIG_CASES, ids=[next(iter(o)) + "=" + str(next(iter(o.values())))
                                                                 for o, _ in CONFIG_CASES])
def test_fl_config_refuses_bad_values_naming_the_setting(override: dict[str, Any], message: str) -> None:
    with pytest.raises(LabError, match=message) as err:
        fl_config.load_config(override)
    assert str(err.value).startswith("invalid configuration") and "\n" not in str(err.value)
    count(f"fl config: {override}", bad_inputs=1)


def silo(x: Any = None, y: Any = None, ids: Any = None, n: int = 40) -> Any:
    x = RNG.random((n, 64)).astype(np.float32) if x is None else x
    y = (np.arange(n) % 10).astype(np.int64) if y is None else y
    ids = np.array([f"r{i}" for i in range(n)]) if ids is None else ids
    return fl_data.SiloData(np.asarray(x), np.asarray(y), np.asarray(ids))


def nan_x() -> np.ndarray:
    x = RNG.random((40, 64)).astype(np.float32)
    x[3, 3] = np.nan
    return x


FL_DATA_CASES: list[tuple[str, Any, str]] = [
    ("1-D x", silo(x=np.zeros(40, np.float32)), "N x 64"),
    ("wrong feature width", silo(x=np.zeros((40, 63), np.float32)), "N x 64"),
    ("image-shaped x", silo(x=np.zeros((40, 8, 8), np.float32)), "N x 64"),
    ("x/y length mismatch", silo(y=np.zeros(39, np.int64)), "one row per record"),
    ("ids of wrong length", silo(ids=np.array(["a", "b"])), "one row per record"),
    ("NaN in x", silo(x=nan_x()), "finite"),
    ("inf in x", silo(x=np.full((40, 64), np.inf, np.float32)), "finite"),
    ("integer x", silo(x=np.zeros((40, 64), np.int64)), "finite floats"),
    ("float labels", silo(y=np.zeros(40)), "labels must be integers"),
    ("negative labels", silo(y=np.full(40, -1)), "labels must be integers"),
    ("label beyond the model's outputs", silo(y=np.full(40, 10)), r"\[0, 9\]"),
    ("duplicate ids", silo(ids=np.array(["same"] * 40)), "unique"),
    ("empty silo", silo(n=0), "every client needs data"),
]


@pytest.mark.parametrize("case, data, message", FL_DATA_CASES, ids=[c[0] for c in FL_DATA_CASES])
def test_fl_client_data_refuses_a_bad_source(case: str, data: Any, message: str) -> None:
    with pytest.raises(LabError, match=message):
        fl_data.client_data(0, 3, "iid", 0.5, 0, source=lambda _silo: data)
    count(f"fl data: {case}", bad_inputs=1)


def test_fl_refuses_fewer_records_than_clients_and_accepts_a_single_class() -> None:
    """A silo holding one class is legitimate (label skew is what FL is for); too few records is not."""
    with pytest.raises(LabError, match="2 record"):
        fl_data.client_data(0, 9, "iid", 0.5, 0, source=lambda _s: silo(n=2))  # 3 aws clients
    one_class = silo(y=np.full(40, 3))
    assert len(fl_data.client_data(0, 3, "dirichlet", 0.5, 0, source=lambda _s: one_class)) > 0
    count("fl data: fewer records than clients", bad_inputs=1)


def ray_running() -> bool:
    ray = sys.modules.get("ray")
    return bool(ray is not None and ray.is_initialized())


@pytest.mark.parametrize("case, config, source, message", [
    ("bad config", {"num-shares": 4}, None, "num-shares must be odd"),
    ("NaN data source", {}, lambda _s: silo(x=nan_x()), "finite"),
    ("unknown label", {}, lambda _s: silo(y=np.full(40, 12)), r"\[0, 9\]"),
    ("landing without its key", {"data-root": "/nonexistent/landing"}, None, "cannot read the landing|no landed records"),
], ids=["config", "nan-source", "label-source", "empty-landing"])
def test_run_simulation_refuses_before_ray_starts(case: str, config: dict[str, Any], source: Any, message: str) -> None:
    assert not ray_running()
    with pytest.raises(LabError, match=message):
        fl_run.run_simulation(config, data_source=source)
    assert not ray_running()
    count(f"fl run_simulation: {case}", bad_inputs=1)


def test_run_simulation_checks_accept_the_packaged_data() -> None:
    """The check itself must not refuse the lab's own data (else every test above passes vacuously)."""
    fl_run.check_sources(fl_config.load_config({}), None)
