"""The grading command: its CLI contract (the proofs of what it scores are in tests/course/grading/)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course.exercises import deliverables
from lab.paths import REPO_ROOT


def _grade(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "course.grade", *args], cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=timeout, check=False)


def test_help_names_every_deliverable_and_refuses_what_is_not_the_lab(tmp_path: Path) -> None:
    helped = _grade("--help")
    assert helped.returncode == 0
    assert all(d.id in helped.stdout for d in deliverables())
    bad = _grade("--repo", str(tmp_path), "--quick")
    assert bad.returncode == 1 and "does not look like a copy of the lab" in bad.stderr
    assert _grade("--seed", "-1", "--quick").returncode != 0


@pytest.mark.slow
def test_quick_grade_of_this_checkout_writes_json_and_the_review_sheet(tmp_path: Path) -> None:
    out, sheet = tmp_path / "grade.json", tmp_path / "review.md"
    proc = _grade("--only", "ex06", "ex10", "--json", str(out), "--review", str(sheet), "--seed", "1", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert {"score", "max", "deliverables"} <= set(result) and result["score"] == result["max"] == 10
    assert "Instructor judges" in sheet.read_text()
