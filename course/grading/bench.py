"""Prove the grader on many copies and print the figures: ``make bench-grade``.

    python -m course.grading.bench                         # every copy, every deliverable
    python -m course.grading.bench --only ex01 ex03 ingest-aws --copies reference planted-ex03
    python -m course.grading.bench --out reports/bench-grade.json

Copies (``copies.py``): the reference (must score 100 %), the untouched starter (<= 10 %), a
faker whose scripts print good summaries without working (nothing beyond "present" on what it
fakes), and one copy per exercise with a silent bug planted in it (loses points in that
exercise, none elsewhere). Each line says whether its claim held; the exit code is 1 if any
did not. Times are wall-clock per graded copy on this machine (say how loaded it was).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from course.exercises import deliverables, exercises
from course.grading import copies
from course.grading.score import PRESENT, grade
from lab.cli import LabError, parser, run_main
from lab.paths import REPO_ROOT

#: Items that fail on this branch's reference until the trust/ingestion contract (#14, #18) merges.
PENDING_CONTRACT = ("cross-silo record kept out", "cross-silo dead letter says why")


def builders() -> dict[str, Callable[[Path], Path]]:
    out: dict[str, Callable[[Path], Path]] = {"reference": copies.reference, "starter": copies.starter,
                                                "faker": copies.faker}
    for ex in exercises():
        out[f"planted-{ex.id}"] = lambda dest, e=ex.id: copies.planted(dest, e)
    return out


def points(result: dict[str, Any]) -> dict[str, float]:
    return {d["key"]: d["points"] for d in result["deliverables"]}


def pending_only(result: dict[str, Any]) -> list[str]:
    """Failed items of a result that are not the pending contract (empty = full marks but for it)."""
    return [f"{d['key']}: {i['name']}" for d in result["deliverables"] for i in d["items"]
            if not i["ok"] and i["name"] not in PENDING_CONTRACT]


def verdict(name: str, result: dict[str, Any], reference: dict[str, Any] | None) -> tuple[bool, str]:
    """Did this copy score as its kind must?"""
    pts = points(result)
    maxima = {d["key"]: d["max_points"] for d in result["deliverables"]}
    if name == "reference":
        bad = pending_only(result)
        return not bad, "full marks" + (" but pending contract items" if result["score"] < result["max"] else "") \
            if not bad else "lost: " + "; ".join(bad)[:200]
    if name == "starter":
        return result["percent"] <= 10, f"{result['percent']} % (must be <= 10 %)"
    if name == "faker":
        over = [k for k in copies.FAKED if k in pts and pts[k] > round(PRESENT * maxima[k], 2)]
        return not over, "only 'present' on " + ", ".join(k for k in copies.FAKED if k in pts) \
            if not over else "scored beyond present on " + ", ".join(over)
    ex = name.removeprefix("planted-")
    if reference is None:
        return False, "needs the reference graded in the same run"
    ref = points(reference)
    others = [k for k in pts if k != ex and abs(pts[k] - ref.get(k, 0)) > 0.01]
    lost = ex in pts and pts[ex] < ref.get(ex, 0)
    ok = lost and not others
    return ok, (f"{ex}: {pts.get(ex)} of {ref.get(ex)}" + (f"; also changed: {', '.join(others)}" if others else ""))


def main(argv: Sequence[str] | None = None) -> int:
    every = builders()
    p = parser("python -m course.grading.bench", __doc__ or "")
    p.add_argument("--copies", nargs="+", choices=list(every), default=list(every), metavar="COPY",
                   help=f"which copies (default all: {', '.join(every)})")
    p.add_argument("--only", nargs="+", choices=[d.id for d in deliverables()], metavar="ID",
                   help="grade only these deliverables (default all)")
    p.add_argument("--seed", type=int, default=1, help="grading seed shared by every copy (default 1)")
    p.add_argument("--out", type=Path, help="also write every result as JSON here")
    args = p.parse_args(argv)
    if args.seed < 0:
        raise LabError("--seed must be >= 0")
    names = args.copies
    if any(n.startswith("planted-") for n in names) and "reference" not in names:
        names = ["reference", *names]
    from lab.cli import console

    rows, results, failures = [], {}, 0
    root = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        for name in names:
            dest = every[name](root / name)
            console.print(f"[dim]grading {name} ...[/]")
            result = grade(dest, args.only, work=root / f"{name}-work", seed=args.seed)
            results[name] = result
            ok, why = verdict(name, result, results.get("reference"))
            failures += not ok
            rows.append((name, result["percent"], result["seconds"], ok, why))
            console.print(f"{name:<14} {result['percent']:>6.1f} %  {result['seconds']:>6.0f} s  "
                          f"{'held' if ok else 'FAILED'}  {why}", markup=False)
            shutil.rmtree(root / name, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    slowest = max((r[2] for r in rows), default=0.0)
    summary = {"copies": len(rows), "held": len(rows) - failures, "slowest_copy_s": slowest,
               "rows": [{"copy": n, "percent": pc, "seconds": s, "held": ok, "why": w} for n, pc, s, ok, w in rows]}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"summary": summary, "results": results}, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    run_main(main)
