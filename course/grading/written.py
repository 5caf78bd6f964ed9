"""``written:exNN``: structure, substance and required citations of a written deliverable.

What a machine can check: every required section is there with real text (no TODO, at least
``MIN_WORDS`` words), every required citation pattern occurs, every required term is used.
What it cannot (is the argument right, are the mitigations in a sound order) goes to the
review sheet the grader prints for the instructor (``review_sheet``).
"""
from __future__ import annotations

import re

from course.exercises import Deliverable, by_id, exercises
from course.grading.contract import Item, check
from course.grading.runner import Session

MIN_WORDS = 20
#: A section starts at a Markdown heading or a paragraph that opens with a bold label.
START = re.compile(r"^(?:#{1,6}\s+(?:[\d.]+\s+)?(?P<h>.+?)\s*$|\*\*(?P<b>[^*]+?)\.?\*\*)")


def sections(text: str) -> dict[str, str]:
    """Section title -> its text (up to the next heading or bold-labelled paragraph)."""
    found: dict[str, str] = {}
    title, body = "", []
    for line in text.splitlines():
        m = START.match(line)
        if m:
            if title:
                found.setdefault(title, "\n".join(body))
            title = (m["h"] or m["b"] or "").strip()
            body = [line[m.end():]] if m["b"] else []
        else:
            body.append(line)
    if title:
        found.setdefault(title, "\n".join(body))
    return found


def scoped(text: str, heading: str) -> str:
    """The part of ``text`` under the level-2 heading ``heading`` (numbering ignored), or ''."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = re.sub(r"^##\s+[\d.]*\s*", "", line).strip().lower().startswith(heading.lower())
        elif inside:
            out.append(line)
    return "\n".join(out)


def written_items(ex: Deliverable, text: str) -> list[Item]:
    if ex.scope:
        text = scoped(text, ex.scope)
    parts = sections(text)
    items = []
    for name in ex.sections:
        body = next((b for t, b in parts.items() if t.lower().startswith(name.lower())), None)
        words = len(re.findall(r"[A-Za-z0-9`'-]+", body or ""))
        ok = body is not None and "TODO" not in body and words >= MIN_WORDS
        items.append(Item(f"section '{name}' written", ok,
                          "missing" if body is None else "still TODO" if "TODO" in body else f"{words} words"))
    for pattern in ex.citations:
        hits = sorted(set(re.findall(pattern, text)))
        items.append(Item(f"cites {pattern}", bool(hits), ", ".join(hits[:6]) or "no match"))
    absent = [t for t in ex.terms if t.lower() not in text.lower()]
    items.append(Item("uses the required terms", not absent, "missing: " + ", ".join(absent) if absent else "all"))
    return items


def _written(ex_id: str) -> None:
    @check(f"written:{ex_id}")
    def run(session: Session) -> list[Item]:
        ex = by_id(ex_id)
        path = session.repo / ex.files[0]
        if not path.is_file():
            return [Item("document present", False, f"no {ex.files[0]}")]
        return written_items(ex, path.read_text(encoding="utf-8", errors="replace"))
    run.__doc__ = f"Structure and citations of {ex_id}; the rest is on the instructor's review sheet."


for _ex in exercises():
    if _ex.kind == "written":
        _written(_ex.id)


def review_sheet(result: dict[str, object]) -> str:
    """Markdown the instructor fills in: what the grader found, and the questions it cannot answer."""
    lines = [f"# Review sheet: {result.get('repo')}", ""]
    for ex in exercises():
        if ex.kind != "written":
            continue
        lines += [f"## {ex.id} {ex.title} ({ex.files[0]})", "", f"Goal: {ex.goal}", "", "Machine checks:"]
        scored = next((d for d in result.get("deliverables", []) if d["key"] == ex.id), None)  # type: ignore[union-attr]
        for item in (scored or {}).get("items", []):
            lines.append(f"- [{'x' if item['ok'] else ' '}] {item['name']}: {item['detail']}")
        lines += ["", "Instructor judges (mark each 0-2, notes):"]
        lines += [f"- [ ] {q}" for q in ex.review] + [""]
    return "\n".join(lines)
