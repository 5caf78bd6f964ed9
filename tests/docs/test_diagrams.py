"""The architecture diagrams cannot drift from the code.

Each Mermaid block in diagrams/ must be a plausible flowchart (GitHub renders it),
and the `| node | component | code |` table under it must list every box and name
only repository paths that exist.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

from .mdcheck import (
    code_paths,
    expand_braces,
    fenced_blocks,
    missing_paths,
    parse_mermaid,
    parse_table,
    table_after,
)

DIAGRAM_DIR = REPO_ROOT / "diagrams"
EXPECTED = ("week5_secure_pipeline_architecture.md", "week6_federated_learning_architecture.md")


def diagrams() -> list[Path]:
    return [DIAGRAM_DIR / name for name in EXPECTED]


def mermaid_with_tables(doc: Path) -> list[tuple[str, list[dict[str, str]]]]:
    text = doc.read_text(encoding="utf-8")
    return [(body, table_after(text, after)) for lang, body, after in fenced_blocks(text) if lang == "mermaid"]


def test_the_two_week_diagrams_and_the_readme_exist() -> None:
    missing = [p.name for p in [*diagrams(), DIAGRAM_DIR / "README.md"] if not p.is_file()]
    assert not missing, f"missing in diagrams/: {missing}"


@pytest.mark.parametrize("doc", diagrams(), ids=lambda p: p.stem)
def test_each_mermaid_block_is_a_plausible_flowchart(doc: Path) -> None:
    blocks = mermaid_with_tables(doc)
    assert blocks, f"{doc.name} has no mermaid block"
    problems = []
    for index, (source, _) in enumerate(blocks, 1):
        graph = parse_mermaid(source)
        problems += [f"block {index}: {e}" for e in graph.errors]
        if not graph.edges:
            problems.append(f"block {index}: no edges")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", diagrams(), ids=lambda p: p.stem)
def test_every_box_has_exactly_one_table_row(doc: Path) -> None:
    problems = []
    for index, (source, rows) in enumerate(mermaid_with_tables(doc), 1):
        if not rows or set(rows[0]) != {"node", "component", "code"}:
            problems.append(f"block {index}: no '| node | component | code |' table under it")
            continue
        named = [r["node"].strip("` ") for r in rows]
        boxes = parse_mermaid(source).boxes
        dupes = sorted({n for n in named if named.count(n) > 1})
        problems += [f"block {index}: box {b!r} has no row" for b in sorted(boxes - set(named))]
        problems += [f"block {index}: row {n!r} is not a box of the diagram" for n in sorted(set(named) - boxes)]
        problems += [f"block {index}: rows repeated for {dupes}"] if dupes else []
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", diagrams(), ids=lambda p: p.stem)
def test_every_code_path_in_the_tables_exists(doc: Path) -> None:
    problems = []
    for index, (_, rows) in enumerate(mermaid_with_tables(doc), 1):
        for row in rows:
            paths = code_paths(row.get("code", ""))
            if not paths:
                problems.append(f"block {index}: row {row.get('node')!r} names no path")
            problems += [f"block {index}: {row.get('node')!r} -> {p} does not exist"
                         for p in missing_paths(REPO_ROOT, paths)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", diagrams(), ids=lambda p: p.stem)
def test_each_diagram_has_an_ascii_fallback(doc: Path) -> None:
    text_blocks = [body for lang, body, _ in fenced_blocks(doc.read_text(encoding="utf-8")) if lang == "text"]
    assert any(len(body.splitlines()) >= 5 for body in text_blocks), f"{doc.name}: no ASCII fallback"


# --- the checker itself must be able to fail -------------------------------------------

def test_parser_accepts_the_shapes_and_edge_labels_the_docs_use() -> None:
    graph = parse_mermaid(
        'flowchart LR\n'
        '  subgraph s1["Silo"]\n'
        '    a["A (one)<br/>x"] -->|"TLS · signed"| b[("Store")]\n'
        '  end\n'
        '  b -.-> c{"Check"}\n'
        '  c --> d & e["E"]\n'
        '  d(["D"]) ==> a\n'
    )
    assert graph.errors == []
    assert graph.boxes == {"s1", "a", "b", "c", "d", "e"}
    assert ("c", "e") in graph.edges and ("a", "b") in graph.edges


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('a["A"] --> b["B"]', "first line"),
        ('flowchart LR\n  a["A"] --> ghost', "never declared"),
        ('flowchart LR\n  subgraph s["S"]\n  a["A"] --> b["B"]', "not closed"),
        ('flowchart LR\n  a["A"] --> b["B"]\n  end', "without a matching"),
        ('flowchart LR\n  a["A"] -> b["B"]', "cannot parse"),
        ('flowchart LR\n  a["A" --> b["B"]', "cannot parse"),
        ('flowchart LR\n  a["A"] --> b["B"]\n  a["Other"] --> b', "different labels"),
        ('flowchart LR\n  end["E"] --> b["B"]', "reserved word"),
    ],
)
def test_parser_reports_broken_flowcharts(source: str, message: str) -> None:
    errors = parse_mermaid(source).errors
    assert any(message in e for e in errors), errors


def test_missing_paths_expands_braces_and_reports_what_is_absent(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("")
    assert expand_braces("pkg/{a,b}.py") == ["pkg/a.py", "pkg/b.py"]
    assert missing_paths(tmp_path, ["pkg/", "pkg/{a,b}.py", "pkg/*.py", "pkg/a.py/"]) == ["pkg/b.py", "pkg/a.py/"]
    assert missing_paths(tmp_path, ["nope/*.json"]) == ["nope/*.json"]


def test_table_parser_rejects_ragged_rows_and_missing_separator() -> None:
    assert parse_table(["| node | code |", "|---|---|", "| a | `x` |"]) == [{"node": "a", "code": "`x`"}]
    with pytest.raises(ValueError, match="cells"):
        parse_table(["| node | code |", "|---|---|", "| a |"])
    with pytest.raises(ValueError, match="not a Markdown table"):
        parse_table(["| node | code |", "| a | b |"])
