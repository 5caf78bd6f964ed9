"""The one contract every check follows, and the registry that maps check names to checks.

A check looks at the graded copy *from outside* and returns :class:`Item` s: one line each,
``ok`` only for what the grader observed itself (bytes it read back, a model it opened, a
test it ran against the copy's modules). A copy's own summary, exit code or tests never
make an item pass. Deliverables (``course/exercises.toml``) list the checks that score them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from course.grading.runner import Session


@dataclass(frozen=True)
class Item:
    """One observed fact: what was checked, whether it held, and the evidence in a line."""

    name: str
    ok: bool
    detail: str = ""


class Check(Protocol):
    """Looks at the copy through the session; never raises for a fault of the copy."""

    def __call__(self, session: Session) -> list[Item]: ...


CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register a check under the name deliverables use (``probe:ex01``, ``ingest:aws`` ...)."""
    def register(fn: Check) -> Check:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = fn
        return fn
    return register
