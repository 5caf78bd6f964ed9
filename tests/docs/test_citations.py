"""The playbook and every case study cite only registered framework ids, each with its rationale.

The register (docs/citations.toml) pins each framework's version and date and each id's
checked title; the playbook's governance tables must repeat the registered title and
rationale, frameworks still in draft must say so, and mappings found wrong stay retired.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

from .mdcheck import parse_table
from .register import PLAYBOOK, REGISTER, Register, citation_problems, cited_ids

CITING = [PLAYBOOK, *sorted((REPO_ROOT / "docs" / "case_studies").glob("*.md"))]


def rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def governance_rows(text: str) -> dict[str, list[dict[str, str]]]:
    """Subsection heading -> table rows, for every table under '## ... Governance mapping'."""
    match = re.search(r"^## [^\n]*Governance mapping[^\n]*$(.*?)(?=^## )", text, re.M | re.S)
    if not match:
        raise AssertionError("no '## … Governance mapping' section")
    return {chunk.splitlines()[0].strip(): parse_table(chunk.splitlines()[1:])
            for chunk in re.split(r"^### ", match.group(1), flags=re.M)[1:]}


def governance_problems(register: Register, text: str) -> list[str]:
    """Rows whose title or rationale differs from the register, or that point at nothing."""
    from .test_playbook import cited

    doc, found = rel(PLAYBOOK), []
    for heading, rows in governance_rows(text).items():
        if not rows:
            found.append(f"subsection {heading!r} has no table")
        frameworks = set()
        for row in rows:
            ident = row.get("id", "")
            entry = register.ids.get(ident)
            if entry is None:
                found.append(f"{ident!r} is not in the register")
                continue
            frameworks.add(entry["framework"])
            if row.get("title") != entry["title"]:
                found.append(f"{ident}: title {row.get('title')!r} is not the registered {entry['title']!r}")
            if row.get("why it fits") != register.rationale.get((doc, ident)):
                found.append(f"{ident}: 'why it fits' differs from the registered rationale")
            paths, targets = cited(row.get("implemented / demonstrated by", ""))
            if not paths and not targets:
                found.append(f"{ident}: names no repository path or make target")
        for fw in frameworks:
            meta = register.frameworks[fw]
            if meta["status"] == "draft" and "draft" not in heading.lower():
                found.append(f"subsection {heading!r}: {meta['name']} is a draft; say so in the heading")
            if meta["version"].split(" (")[0] not in heading:
                found.append(f"subsection {heading!r} does not name the registered version {meta['version']!r}")
    return found


@pytest.fixture(scope="module")
def register() -> Register:
    return Register.load()


def test_the_register_is_complete(register: Register) -> None:
    assert not register.problems(), "\n".join(register.problems())
    assert register.ids and register.rationale


@pytest.mark.parametrize("doc", CITING, ids=lambda p: p.stem)
def test_doc_cites_only_registered_ids_each_with_a_rationale(register: Register, doc: Path) -> None:
    problems = citation_problems(register, rel(doc), doc.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_every_mapping_names_a_citing_doc(register: Register) -> None:
    known = {rel(p) for p in CITING}
    assert {doc for doc, _ in register.rationale} <= known


def test_governance_tables_repeat_the_register(register: Register) -> None:
    problems = governance_problems(register, PLAYBOOK.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_sources_table_matches_the_register(register: Register) -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    section = re.search(r"^## [^\n]*Sources checked[^\n]*$(.*)", text, re.M | re.S)
    assert section, "no 'Sources checked' section"
    assert "docs/citations.toml" in section.group(1)
    rows = {r["framework"]: r for r in parse_table(section.group(1).splitlines())}
    for fw in register.frameworks.values():
        row = rows.get(fw["name"])
        assert row, f"no row for {fw['name']}"
        assert (row["version"], row["date"], row["status"]) == (fw["version"], fw["date"].isoformat(), fw["status"])


# --- the checks themselves must be able to fail ----------------------------------------

def test_cited_ids_finds_every_framework_shape() -> None:
    text = "AML.T0020, AML.M0014 and AML.T0018.000; ML02:2023 or ML10; MANAGE 4.3; A.7.5 (not XA.1.2)"
    assert cited_ids(text) == {"AML.T0020", "AML.M0014", "AML.T0018.000", "ML02:2023", "ML10",
                               "MANAGE 4.3", "A.7.5"}


def test_citation_check_rejects_unknown_unjustified_stale_and_retired(register: Register) -> None:
    doc = "docs/case_studies/fl_client_poisoning.md"
    problems = " | ".join(citation_problems(register, doc, "AML.T9999 and AML.M0007 and AML.T0020"))
    assert "AML.T9999, which is not in" in problems
    assert "AML.M0007 with no registered rationale" in problems
    assert "AML.T0020 again, retired" in problems
    assert "maps AML.T0018.000, but the document no longer cites it" in problems


def test_register_check_rejects_missing_fields_and_rationale() -> None:
    bad = Register.parse(REGISTER.read_text(encoding="utf-8").replace(
        'rationale = "the attack manipulates a client\'s model update, not its data"', 'rationale = "fits"'))
    assert any("ML10:2023 has no one-line rationale" in p for p in bad.problems())
    broken = Register.parse('checked = 2026-12-01\n[frameworks.x]\nname = "X"\n[ids."AML.T0001"]\nframework = "y"\n')
    problems = " | ".join(broken.problems())
    assert "framework x: no version" in problems and "unknown framework 'y'" in problems


def test_governance_check_rejects_a_wrong_title_and_an_undeclared_draft(register: Register) -> None:
    row = "| ML02:2023 | Poisoning Stuff | `ingestion/records.py` | x |"
    doc = (f"## 7. Governance mapping\n\n### OWASP (2023 edition)\n\n"
           f"| id | title | implemented / demonstrated by | why it fits |\n|---|---|---|---|\n{row}\n\n## 8. End\n")
    problems = " | ".join(governance_problems(register, doc))
    assert "is not the registered 'Data Poisoning Attack'" in problems
    assert "differs from the registered rationale" in problems
    assert "is a draft; say so" in problems
