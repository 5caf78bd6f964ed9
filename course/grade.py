"""Grade a student's copy of the lab black-box: the grader's records, models and tests, never the copy's claims.

    python -m course.grade --repo ../student-a --json grade.json   # = make grade REPO=../student-a
    python -m course.grade --quick              # deliverables that need no emulator or training
    python -m course.grade --only ex01 ingest-aws
    python -m course.grade --repo ../student-a --review review.md   # the instructor's sheet for written work

What is graded, and for how many points, is ``course/exercises.toml`` (docs/RUBRIC.md reads
the same). How it is checked is ``course/grading/``: fresh records with the grader's keys go
through the copy's ingest scripts and the landing is read back and decrypted here; the copy
trains with the grader's configuration and its model file is verified and evaluated here;
its detector scans sets poisoned here; the grader's own tests run against its modules; its
written work is checked for structure and citations. Exit status 0 when every check held.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from course.exercises import deliverables
from lab.cli import LabError, atomic_write, output_file, parser, run_main
from lab.paths import REPO_ROOT


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    def mark(flag: bool) -> str:
        return "[green]yes[/]" if flag else "[red]no[/]"

    table = Table(title=f"grade of {escape(result['repo'])} (seed {result['seed']})")
    for column in ("wk", "id", "deliverable", "present", "verified", "points", "s", "evidence"):
        table.add_column(column, overflow="fold")
    for s in result["deliverables"]:
        table.add_row(str(s["week"]), s["key"], escape(s["title"]), mark(s["present"]), mark(s["verified"]),
                      f"{s['points']:g}/{s['max_points']}", f"{s['seconds']:.0f}", escape(s["detail"]))
    table.add_section()
    table.add_row("", "", "[bold]total[/]", "", "", f"[bold]{result['score']:g}/{result['max']}[/]",
                  f"{result['seconds']:.0f}", f"{result['percent']:g} %")
    Console(width=max(Console().width, 140)).print(table)


def main(argv: Sequence[str] | None = None) -> int:
    from course.grading.score import grade, is_quick

    keys = [d.id for d in deliverables()]
    p = parser("python -m course.grade", __doc__ or "")
    p.add_argument("--repo", type=Path, default=REPO_ROOT, help="the copy to grade (default: this checkout)")
    p.add_argument("--json", type=output_file, metavar="OUT", help="also write the result as JSON here (checked first)")
    p.add_argument("--review", type=output_file, metavar="OUT",
                   help="write the instructor's review sheet (Markdown) here (checked first)")
    p.add_argument("--seed", type=int, help="seed of the grader's records and poisoned sets (default: random)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true",
                       help="only " + ", ".join(d.id for d in deliverables() if is_quick(d)) + " (no emulator, no training)")
    which.add_argument("--only", nargs="+", choices=keys, metavar="ID", help=f"only these: {', '.join(keys)}")
    args = p.parse_args(argv)
    if not args.repo.is_dir():
        raise LabError(f"--repo {args.repo}: no such folder")
    if args.seed is not None and args.seed < 0:
        raise LabError("--seed must be >= 0")
    chosen = args.only or [d.id for d in deliverables() if is_quick(d) or not args.quick]
    from course.grading.written import review_sheet
    from lab.cli import console

    result = grade(args.repo, chosen, seed=args.seed,
                   progress=lambda title: console.print(f"grading: {title} ...", style="dim", markup=False))
    print_table(result)
    sheet = review_sheet(result)
    if args.review:
        atomic_write(args.review, sheet)
    elif any(d.kind == "written" for d in deliverables() if d.id in chosen):
        print(sheet)
    if args.json:
        atomic_write(args.json, json.dumps(result, indent=1))
    return 0 if result["all_verified"] else 1


if __name__ == "__main__":
    run_main(main)
