"""Score deliverables from their checks: partial credit per observed item, nothing for claims.

A deliverable's points: ``PRESENT`` of them when its files exist, the rest split equally
between its checks, each paying the share of its items that held. A check that cannot run
(a crash, a timeout, the cloud not starting) pays nothing and says why.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from course.exercises import Deliverable, deliverables
from course.grading import detect, fl, ingest, probes, rotation, written  # noqa: F401 - register their checks
from course.grading.contract import CHECKS, Item
from course.grading.runner import Session
from lab.cli import LabError

PRESENT = 0.05
#: Checks that need neither emulators nor training (``--quick``).
QUICK = ("probe:", "cli:", "written:")


@dataclass
class Score:
    key: str
    title: str
    week: int
    kind: str
    max_points: int
    present: bool = False
    verified: bool = False
    points: float = 0.0
    seconds: float = 0.0
    detail: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)


def is_quick(d: Deliverable) -> bool:
    return all(c.startswith(QUICK) for c in d.checks)


def grade_one(d: Deliverable, session: Session) -> Score:
    score = Score(d.id, d.title, d.week, d.kind, d.points)
    start = time.perf_counter()
    missing = [p for p in d.files if not (session.repo / p).exists()]
    score.present = not missing
    earned = 0.0
    if missing:
        score.detail = "missing: " + ", ".join(missing)
    else:
        for name in d.checks:
            try:
                items = CHECKS[name](session)
            except Exception as exc:  # noqa: BLE001 - one check failing must not stop the grading
                items = [Item(name, False, f"could not check: {type(exc).__name__}: {exc}"[:200])]
            items = items or [Item(name, False, "the check observed nothing")]
            earned += sum(i.ok for i in items) / len(items) / len(d.checks)
            score.items += [{"check": name, **asdict(i)} for i in items]
        passed = sum(i["ok"] for i in score.items)
        score.verified = passed == len(score.items)
        failed = [i["name"] for i in score.items if not i["ok"]]
        score.detail = f"{passed}/{len(score.items)} checks held" + (f"; failed: {', '.join(failed)}"[:300] if failed else "")
    score.points = round(d.points * (PRESENT * score.present + (1 - PRESENT) * earned), 2)
    score.seconds = round(time.perf_counter() - start, 1)
    return score


def grade(repo: Path, keys: Sequence[str] | None = None, work: Path | None = None, seed: int | None = None,
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Grade ``repo`` on the chosen deliverables (default all); the result as a JSON-ready dict."""
    repo = repo.resolve()
    if not (repo / "lab").is_dir() or not (repo / "ingestion").is_dir():
        raise LabError(f"{repo} does not look like a copy of the lab (no lab/ or ingestion/)")
    every = {d.id: d for d in deliverables()}
    chosen = list(keys) if keys else list(every)
    unknown = sorted(set(chosen) - set(every))
    if unknown:
        raise LabError(f"unknown deliverable(s) {unknown}; choose from {list(every)}")
    tmp = Path(tempfile.mkdtemp(prefix="lab-grade-")) if work is None else work
    session = Session(repo, tmp, seed)
    started = time.perf_counter()
    try:
        scores = []
        for d in deliverables():
            if d.id in chosen:
                if progress:
                    progress(f"{d.id} {d.title}")
                scores.append(grade_one(d, session))
    finally:
        session.close()
        if work is None:
            shutil.rmtree(tmp, ignore_errors=True)
    total, maximum = sum(s.points for s in scores), sum(s.max_points for s in scores)
    return {"repo": str(repo), "seed": session.seed, "graded": [s.key for s in scores],
            "score": round(total, 1), "max": maximum, "percent": round(100 * total / maximum, 1) if maximum else 0.0,
            "all_verified": all(s.verified for s in scores), "seconds": round(time.perf_counter() - started, 1),
            "deliverables": [asdict(s) for s in scores]}
