"""written:exNN: sections with substance, citations, terms; a template or a stripped citation fails."""
from __future__ import annotations

from course.exercises import by_id
from course.grading.written import review_sheet, written_items
from lab.paths import REPO_ROOT


def _failed(ex_id: str, text: str) -> list[str]:
    return [i.name for i in written_items(by_id(ex_id), text) if not i.ok]


def test_the_reference_documents_pass() -> None:
    for ex_id in ("ex06", "ex10"):
        assert _failed(ex_id, (REPO_ROOT / by_id(ex_id).files[0]).read_text()) == [], ex_id


def test_the_starter_template_fails_every_section_and_citation() -> None:
    ex = by_id("ex06")
    failed = _failed("ex06", "# Case study\n\n" + ex.template)
    assert len(failed) == len(ex.sections) + len(ex.citations) + 1


def test_a_missing_citation_costs_only_that_item() -> None:
    text = (REPO_ROOT / by_id("ex06").files[0]).read_text().replace("AML.T0020", "the technique")
    assert _failed("ex06", text) == ["cites AML\\.T\\d{4}"]


def test_ex10_is_judged_on_its_section_only() -> None:
    text = (REPO_ROOT / by_id("ex10").files[0]).read_text()
    gutted = text.replace("NIST SP 800-38D", "NIST") + "\n## 9. Appendix\nNIST SP 800-38D\n"
    assert _failed("ex10", gutted) == ["cites SP 800-38D"]


def test_review_sheet_lists_machine_checks_and_questions() -> None:
    result = {"repo": "x", "deliverables": [{"key": "ex06", "items": [{"name": "cites", "ok": False, "detail": "none"}]}]}
    sheet = review_sheet(result)
    assert "- [ ] cites: none" in sheet and "Instructor judges" in sheet
    assert all(q in sheet for q in by_id("ex06").review)
