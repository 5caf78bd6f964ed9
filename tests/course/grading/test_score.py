"""Scoring: present share, equal split between checks, partial items, a crashing check pays nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from course.exercises import Deliverable
from course.grading import contract, score
from course.grading.contract import Item
from course.grading.runner import Session
from lab.paths import REPO_ROOT


@pytest.fixture
def fake_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(session: Session) -> list[Item]:
        raise RuntimeError("cloud did not start")

    checks = {"t:half": lambda s: [Item("a", True), Item("b", False)], "t:all": lambda s: [Item("a", True)],
              "t:boom": boom, "t:empty": lambda s: []}
    monkeypatch.setattr(contract, "CHECKS", checks)
    monkeypatch.setattr(score, "CHECKS", checks)


def _deliverable(*checks: str, files: tuple[str, ...] = ("README.md",)) -> Deliverable:
    return Deliverable("t", 5, "test", 10, files, checks)


def test_partial_items_and_equal_check_shares(fake_checks: None, tmp_path: Path) -> None:
    s = score.grade_one(_deliverable("t:half", "t:all"), Session(REPO_ROOT, tmp_path, seed=1))
    assert s.present and not s.verified
    assert s.points == pytest.approx(10 * (0.05 + 0.95 * (0.5 * 0.5 + 0.5 * 1)), abs=0.01)
    assert "failed: b" in s.detail


def test_a_crash_or_an_empty_check_pays_nothing_and_says_why(fake_checks: None, tmp_path: Path) -> None:
    s = score.grade_one(_deliverable("t:boom", "t:empty"), Session(REPO_ROOT, tmp_path, seed=1))
    assert s.points == pytest.approx(0.5) and not s.verified
    assert any("cloud did not start" in i["detail"] for i in s.items)


def test_missing_files_score_zero_without_running_checks(fake_checks: None, tmp_path: Path) -> None:
    s = score.grade_one(_deliverable("t:boom", files=("no/such.py",)), Session(REPO_ROOT, tmp_path, seed=1))
    assert (s.points, s.present, s.items) == (0.0, False, [])
    assert s.detail == "missing: no/such.py"
