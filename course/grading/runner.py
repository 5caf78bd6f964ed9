"""Run the graded copy's code, and the grader's own helpers, isolated from this checkout.

The copy's scripts run with this venv's interpreter, the copy as working directory and
``PYTHONPATH`` pointing at the copy (plus a shim that maps ``poisoning_detection`` to its
``poisoning-detection/``). Both the copy and the grader's helpers share one fresh
``LAB_STATE_DIR``: the grader enrols producer keys there and starts the local cloud there,
so the copy's scripts talk to emulators the grader controls and reads back afterwards.
Variables that point SDKs at this checkout's own emulators are removed first.
"""
from __future__ import annotations

import json
import os
import subprocess  # nosec B404 - runs the graded copy's scripts and the grader's helpers, argv only
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lab.paths import REPO_ROOT

#: Variables that would point the copy's SDKs at emulators this checkout started.
STRIPPED_PREFIXES = ("LAB_", "AWS_", "AZURE_", "IDENTITY_", "MSI_")
STRIPPED = ("PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST", "PYTHONPATH")
T = TypeVar("T")


def _base_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_PREFIXES) and k not in STRIPPED}
    env.update({"LAB_STATE_DIR": str(state), "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"})
    return env


def last_json(text: str) -> dict[str, Any] | None:
    """The last line of ``text`` that is a JSON object (helpers print their result last)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            return value if isinstance(value, dict) else None
    return None


def why(proc: subprocess.CompletedProcess[str]) -> str:
    """The last meaningful line of a command's output, for an instructor to read."""
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    return f"exit {proc.returncode}: {lines[-1][:160] if lines else 'no output'}"


def _run(argv: Sequence[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, text=True,  # nosec B603 - this interpreter, fixed argv
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, "", f"timed out after {timeout:.0f} s")


class Session:
    """One grading run: the copy, a scratch folder, and observations shared between checks."""

    def __init__(self, repo: Path, work: Path, seed: int | None = None) -> None:
        self.repo, self.work = repo.resolve(), work.resolve()
        self.state = self.work / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
        shim = self.work / "pythonpath"
        shim.mkdir(exist_ok=True)
        link = shim / "poisoning_detection"
        if not link.exists():
            link.symlink_to(self.repo / "poisoning-detection", target_is_directory=True)
        self.copy_env = _base_env(self.state) | {
            "PYTHONPATH": os.pathsep.join([str(shim), str(self.repo), str(self.repo / "federated-learning")])}
        self.grader_env = _base_env(self.state)
        self._memo: dict[str, Any] = {}
        self._clouds: set[str] = set()

    def run(self, argv: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``python ARGV`` in the copy (its scripts, its modules)."""
        return _run(argv, self.repo, self.copy_env, timeout)

    def helper(self, *argv: str, timeout: float = 900) -> dict[str, Any]:
        """The grader's own helper (``course.grading.helper``) on the shared state; its JSON result."""
        proc = _run(["-m", "course.grading.helper", *argv], REPO_ROOT, self.grader_env, timeout)
        result = last_json(proc.stdout)
        if proc.returncode != 0 or result is None:
            raise RuntimeError(f"grader helper {argv[0]} failed: {why(proc)}")
        return result

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a shared observation once (an ingest run, the probe tests, a training run)."""
        if key not in self._memo:
            try:
                self._memo[key] = compute()
            except Exception as exc:  # noqa: BLE001 - remembered, so every check that needs it reports it
                self._memo[key] = exc
        value = self._memo[key]
        if isinstance(value, Exception):
            raise value
        return value  # type: ignore[no-any-return]

    def cloud(self, name: str) -> None:
        """Start one cloud's emulators (the grader's own lab code) on the shared state, once."""
        if name not in self._clouds:
            proc = _run(["-m", "lab", "up", name], REPO_ROOT, self.grader_env, 600)
            if proc.returncode != 0:
                raise RuntimeError(f"the local cloud ({name}) did not start: {why(proc)}")
            self._clouds.add(name)

    def close(self) -> None:
        """Stop the emulators this session started."""
        if self._clouds:
            _run(["-m", "lab", "down", *sorted(self._clouds)], REPO_ROOT, self.grader_env, 120)
            self._clouds.clear()
