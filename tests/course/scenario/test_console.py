"""A scenario step is a claim: it is ✓ only when its body evaluated a check that held."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from course.scenario.console import StepLog


def log() -> StepLog:
    return StepLog(console=Console(file=io.StringIO(), width=200))


def test_a_step_that_checks_nothing_fails() -> None:
    steps = log()
    with steps.step("did some work", claim="something") as s:
        s["result"] = "done"
    assert steps.rows[0]["ok"] is False and "nothing was checked" in str(steps.rows[0]["result"])
    assert not steps.ok


def test_a_failed_or_raising_check_fails_and_a_held_one_passes() -> None:
    steps = log()
    with steps.step("held", claim="1 == 1") as s:
        s["ok"] = 1 == 1
    with steps.step("broken", claim="1 == 2") as s:
        s["ok"] = 1 == 2
    with pytest.raises(RuntimeError), steps.step("raised", claim="no error") as s:
        raise RuntimeError("boom [/bold]")  # markup-like text is printed, never interpreted
    assert [r["ok"] for r in steps.rows] == [True, False, False]
    assert steps.rows[0]["claim"] == "1 == 1"
    assert "boom [/bold]" in steps.console.file.getvalue()  # type: ignore[attr-defined]
