"""docs/RUBRIC.md, course/exercises.toml and the grader's check registry say the same thing."""
from __future__ import annotations

import re

from course.exercises import deliverables, exercises
from course.grading.contract import CHECKS
from course.grading.score import PRESENT
from lab.paths import REPO_ROOT

RUBRIC = REPO_ROOT / "docs" / "RUBRIC.md"
ROW = re.compile(r"^\| (?P<id>[a-z0-9-]+) \| (?P<week>\d) \| (?P<title>[^|]+) \| (?P<points>\d+) \| (?P<checks>[^|]+) \|$")


def _rows() -> dict[str, dict[str, str]]:
    return {m["id"]: m.groupdict() for m in map(ROW.match, RUBRIC.read_text().splitlines()) if m}


def test_every_deliverable_has_its_row_with_the_registry_points_and_checks() -> None:
    rows = _rows()
    assert set(rows) == {d.id for d in deliverables()}
    for d in deliverables():
        row = rows[d.id]
        assert int(row["points"]) == d.points and int(row["week"]) == d.week, d.id
        assert row["title"].strip() == d.title
        assert re.findall(r"`([^`]+)`", row["checks"]) == list(d.checks), d.id


def test_points_add_up_to_100_and_the_present_share_is_stated() -> None:
    assert sum(d.points for d in deliverables()) == 100
    assert f"**{PRESENT * 100:g} %**" in RUBRIC.read_text()


def test_every_named_check_exists_and_every_check_is_used_and_documented() -> None:
    named = {c for d in deliverables() for c in d.checks}
    assert named == set(CHECKS)
    text = RUBRIC.read_text()
    for name in CHECKS:
        family = name.split(":")[0] + ":exNN" if name.startswith(("probe:", "written:")) else name
        assert f"`{family}`" in text, name


def test_exercises_cover_both_weeks_with_goal_hint_budget_and_files() -> None:
    assert len(exercises()) >= 10 and {e.week for e in exercises()} == {5, 6}
    assert [e.id for e in exercises()] == [f"ex{i:02d}" for i in range(1, len(exercises()) + 1)]
    for e in exercises():
        assert e.goal and e.hint and e.budget_min > 0 and e.files, e.id
        assert all((REPO_ROOT / f).is_file() for f in e.files), e.id
    written = [e for e in exercises() if e.kind == "written"]
    assert written and all(e.sections and e.citations and e.template and e.review for e in written)
