"""Write the students' starter repository: this checkout with every solution region blanked.

    python -m course.release --out ../starter        # = make student-release OUT=../starter

Each code region becomes a TODO naming the exercise and its hint, then ``raise
NotImplementedError("exNN ...")``, so the starter imports and runs everywhere else and
stops exactly at an exercise with a message that names it. Each prose region becomes the
exercise's template (headings + TODO). The grader and its hidden checks are left out;
the README gains the exercise list in course order with time budgets. The instructor's
copy (this one) keeps the solutions.
"""
from __future__ import annotations

import shutil
import subprocess  # nosec B404 - `git ls-files` with a fixed argv
import textwrap
from collections.abc import Sequence
from pathlib import Path

from course.exercises import Deliverable, Region, exercises, find_regions
from lab.cli import LabError, parser, run_main
from lab.paths import REPO_ROOT

#: Instructor-only paths: the grader, its hidden checks and their tests.
INSTRUCTOR_ONLY = ("course/grading/", "course/grade.py", "course/release.py", "tests/course/grading/",
                   "tests/course/test_grade.py", "tests/course/test_release.py")
#: Never copied even when git is not there to tell (run-time state, build output).
SKIP_PARTS = {".git", ".venv", "node_modules", ".lab", ".course", "reports", "__pycache__", ".pytest_cache"}


def source_files(root: Path = REPO_ROOT) -> list[str]:
    """Tracked and untracked-but-not-ignored files (what a clone plus your work would hold)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # nosec B603 B607 - fixed argv, git from PATH
                             cwd=root, capture_output=True, check=True, timeout=60).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.SubprocessError):
        files = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    return sorted(f for f in files if not SKIP_PARTS & set(Path(f).parts)
                  and not f.startswith(INSTRUCTOR_ONLY) and (root / f).is_file())


def stub(ex: Deliverable, region: Region) -> list[str]:
    """The lines that replace one region."""
    if region.markdown:
        return [f"<!-- TODO {ex.id}: {ex.title} ({ex.budget_min} min). {ex.hint} -->", *ex.template.rstrip().splitlines()]
    pad = region.indent
    comment = textwrap.wrap(f"TODO {ex.id} ({ex.title}, {ex.budget_min} min): {ex.hint}", 100 - len(pad) - 2)
    message = f"{ex.id} ({ex.title}) is not done yet: {ex.hint}"
    return [f"{pad}# {line}" for line in comment] + [f"{pad}raise NotImplementedError({message!r})"]


def blank(text: str, path: str, by_id: dict[str, Deliverable]) -> str:
    """``text`` with every solution region replaced by its stub."""
    lines = text.splitlines()
    for region in reversed(find_regions(text, path)):
        ex = by_id.get(region.exercise)
        if ex is None or path not in ex.files:
            raise LabError(f"{path}: region {region.exercise} is not registered for this file in course/exercises.toml")
        lines[region.begin: region.end + 1] = stub(ex, region)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def exercise_table() -> str:
    """The README section: the exercises in course order, with goals and budgets."""
    rows = ["## Exercises (starter release)", "",
            "This is the starter: each exercise's code raises `NotImplementedError` naming it until you write it",
            "(`grep -rn 'TODO ex' --include=*.py --include=*.md .` lists them). Do them in this order;",
            "`docs/RUBRIC.md` says how each is graded.", "",
            "| # | week | exercise | budget | files | goal |", "|---|---|---|---|---|---|"]
    total = 0
    for ex in exercises():
        total += ex.budget_min
        files = ", ".join(f"`{f}`" for f in ex.files)
        rows.append(f"| {ex.id} | {ex.week} | {ex.title} | {ex.budget_min} min | {files} | {ex.goal} |")
    rows += ["", f"Total budget: {total // 60} h {total % 60:02d} min.", ""]
    return "\n".join(rows)


def with_exercises(readme: str) -> str:
    """Insert the exercise table after the README's first paragraph."""
    head, sep, rest = readme.partition("\n## ")
    return head.rstrip() + "\n\n" + exercise_table() + (sep + rest if sep else "")


def release(out: Path, root: Path = REPO_ROOT) -> dict[str, int]:
    """Write the starter to ``out`` (must be new or empty); return counts for the summary."""
    out = out.resolve()
    if out == root.resolve() or root.resolve() in out.parents:
        raise LabError(f"--out {out} is inside the instructor's copy; choose a folder outside it")
    if out.exists() and any(out.iterdir()):
        raise LabError(f"--out {out} is not empty; choose a new folder")
    by_id = {ex.id: ex for ex in exercises()}
    missing = sorted(ex.id for ex in exercises()
                     if not any(r.exercise == ex.id for f in ex.files
                                for r in find_regions((root / f).read_text(encoding="utf-8"), f)))
    if missing:
        raise LabError(f"no solution region found for {', '.join(missing)}; the starter would hand out the answer")
    owned = {f for ex in exercises() for f in ex.files}
    regions = 0
    files = source_files(root)
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in owned or rel.endswith((".py", ".md")):
            text = (root / rel).read_text(encoding="utf-8")
            found = find_regions(text, rel)
            regions += len(found)
            if rel == "README.md":
                text = with_exercises(text)
            target.write_text(blank(text, rel, by_id) if found else text, encoding="utf-8")
        else:
            shutil.copy2(root / rel, target)
    return {"files": len(files), "regions": regions, "exercises": len(by_id)}


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("python -m course.release", __doc__ or "")
    p.add_argument("--out", type=Path, required=True, help="new or empty folder for the starter repository")
    args = p.parse_args(argv)
    counts = release(args.out)
    print(f"starter written to {args.out}: {counts['files']} files, {counts['regions']} solution regions "
          f"blanked across {counts['exercises']} exercises")
    return 0


if __name__ == "__main__":
    run_main(main)
