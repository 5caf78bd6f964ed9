"""The exercise registry (``course/exercises.toml``) and the solution regions in the source.

One place reads the registry, so the starter release, the grader and docs/RUBRIC.md cannot
disagree on numbers, points or files. Regions are nbgrader's idea (BEGIN/END SOLUTION
marker lines around the reference code) kept as plain comment lines, so the instructor's
copy runs unchanged and a merge touches only those lines.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lab.paths import REPO_ROOT

REGISTRY = Path(__file__).with_name("exercises.toml")
#: ``# BEGIN SOLUTION ex01`` (Python) or ``<!-- BEGIN SOLUTION ex01 -->`` (Markdown), alone on its line.
MARKER = re.compile(r"^(?P<indent>[ \t]*)(?:#|<!--) (?P<edge>BEGIN|END) SOLUTION (?P<ex>ex\d\d)(?: -->)?[ \t]*$")


@dataclass(frozen=True)
class Deliverable:
    """One graded thing: an exercise (code or written) or an end-to-end pipeline step."""

    id: str
    week: int
    title: str
    points: int
    files: tuple[str, ...]
    checks: tuple[str, ...]
    kind: str = "code"  # code | written | pipeline
    goal: str = ""
    hint: str = ""
    budget_min: int = 0
    sections: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    template: str = ""
    review: tuple[str, ...] = ()
    scope: str = ""  # written work: only the part under this heading is checked ("" = the whole file)

    @property
    def is_exercise(self) -> bool:
        return self.kind != "pipeline"


@dataclass(frozen=True)
class Region:
    """Lines ``begin``..``end`` (0-based, the marker lines included) of one file."""

    exercise: str
    path: str
    begin: int
    end: int
    indent: str
    markdown: bool = field(default=False)


def _deliverable(raw: dict[str, object], kind: str) -> Deliverable:
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    fields.setdefault("kind", kind)
    return Deliverable(**fields)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def deliverables() -> tuple[Deliverable, ...]:
    """Every exercise in course order, then the pipeline deliverables."""
    doc = tomllib.loads(REGISTRY.read_text(encoding="utf-8"))
    return (tuple(_deliverable(e, "code") for e in doc["exercise"])
            + tuple(_deliverable(p, "pipeline") for p in doc["pipeline"]))


def exercises() -> tuple[Deliverable, ...]:
    return tuple(d for d in deliverables() if d.is_exercise)


def by_id(key: str) -> Deliverable:
    for d in deliverables():
        if d.id == key:
            return d
    raise KeyError(f"unknown deliverable {key!r}")


def find_regions(text: str, path: str) -> list[Region]:
    """The solution regions of one file; raises ValueError on an unbalanced or nested marker."""
    regions: list[Region] = []
    open_at: tuple[int, str, str] | None = None
    for number, line in enumerate(text.splitlines()):
        m = MARKER.match(line)
        if m is None:
            continue
        ex, edge = m["ex"], m["edge"]
        if edge == "BEGIN":
            if open_at is not None:
                raise ValueError(f"{path}:{number + 1}: BEGIN SOLUTION {ex} inside {open_at[1]}")
            open_at = (number, ex, m["indent"])
        else:
            if open_at is None or open_at[1] != ex:
                raise ValueError(f"{path}:{number + 1}: END SOLUTION {ex} without its BEGIN")
            regions.append(Region(ex, path, open_at[0], number, open_at[2], line.lstrip().startswith("<!--")))
            open_at = None
    if open_at is not None:
        raise ValueError(f"{path}: BEGIN SOLUTION {open_at[1]} is never closed")
    return regions


def regions_in(root: Path = REPO_ROOT) -> list[Region]:
    """Every region in the registry's files under ``root``, checked against the registry."""
    found: list[Region] = []
    for d in exercises():
        for rel in d.files:
            found += [r for r in find_regions((root / rel).read_text(encoding="utf-8"), rel) if r.exercise == d.id]
    return found
