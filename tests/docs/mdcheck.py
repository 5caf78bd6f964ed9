"""Small parsers for checking the Markdown deliverables against the repository.

Why hand-written: no maintained Python package parses Mermaid, and the checks
needed here are narrow (header, statements, declared node ids, subgraph balance);
Markdown tables and fenced blocks are read with a few regular expressions rather
than a full Markdown parser, since only pipe tables and ``` fences are used.
"""
from __future__ import annotations

import glob
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
HEADER = re.compile(r"^(flowchart|graph)\s+(TB|TD|BT|RL|LR)\s*;?$")
NODE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: (open, close) delimiters of Mermaid flowchart shapes, longest first so `[(` wins over `[`.
SHAPES: tuple[tuple[str, str], ...] = (
    ("(((", ")))"), ("[(", ")]"), ("((", "))"), ("([", "])"), ("[[", "]]"), ("{{", "}}"),
    ("[/", "/]"), ("[\\", "\\]"), ("[/", "\\]"), ("[\\", "/]"),
    ("[", "]"), ("(", ")"), ("{", "}"), (">", "]"),
)
LINK = re.compile(r'\s*(?:<-->|<==>|-\.->|-\.-|==>|===|-->|---|--o|--x|~~~)(?:\|(?:"[^"]*"|[^|"]*)\|)?\s*')
AMP = re.compile(r"\s*&\s*")
SUBGRAPH = re.compile(r'^subgraph\s+(?P<id>[A-Za-z][A-Za-z0-9_]*)\s*(?P<rest>.*)$')
DIRECTIVE = re.compile(r"^(direction\s+(TB|TD|BT|RL|LR)|classDef\s|class\s|style\s|linkStyle\s|click\s)")
RESERVED = {"end", "subgraph", "graph", "flowchart", "direction", "class", "classDef", "style", "click"}
BACKTICK = re.compile(r"`([^`]+)`")  # inline code spans (strip fenced blocks first)


@dataclass
class Mermaid:
    """What a flowchart declares: labelled nodes, subgraphs, edges, and what did not parse."""

    nodes: dict[str, str] = field(default_factory=dict)
    subgraphs: list[str] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    referenced: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    @property
    def boxes(self) -> set[str]:
        """Every id that is drawn as a box: labelled nodes and subgraphs."""
        return set(self.nodes) | set(self.subgraphs)


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, line index after the closing fence) for every ``` block."""
    lines = text.splitlines()
    blocks: list[tuple[str, str, int]] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                raise ValueError(f"unclosed code fence at line {i + 1}")
            blocks.append((m.group("lang"), "\n".join(lines[i + 1:j]), j + 1))
            i = j + 1
        else:
            i += 1
    return blocks


def parse_table(lines: list[str]) -> list[dict[str, str]]:
    """Rows of the first pipe table in ``lines`` (header names lower-cased)."""
    start = next((k for k, ln in enumerate(lines) if ln.lstrip().startswith("|")), None)
    if start is None:
        return []
    table = list(itertools.takewhile(lambda ln: ln.lstrip().startswith("|"), lines[start:]))
    if len(table) < 2 or not re.fullmatch(r"\s*\|(\s*:?-{3,}:?\s*\|)+\s*", table[1]):
        raise ValueError(f"not a Markdown table: {table[:2]!r}")
    header = [c.strip().lower() for c in _cells(table[0])]
    rows = []
    for ln in table[2:]:
        cells = _cells(ln)
        if len(cells) != len(header):
            raise ValueError(f"row has {len(cells)} cells, header {len(header)}: {ln!r}")
        rows.append(dict(zip(header, (c.strip() for c in cells))))
    return rows


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    # A pipe inside backticks is content, not a separator.
    parts, buf, in_code = [], "", False
    for ch in body:
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return parts


def table_after(text: str, line_index: int) -> list[dict[str, str]]:
    """The first table after ``line_index`` and before the next code fence or heading."""
    lines = text.splitlines()[line_index:]
    stop = next((k for k, ln in enumerate(lines) if ln.startswith("```") or ln.startswith("#")), len(lines))
    return parse_table(lines[:stop])


def _node_at(stmt: str, pos: int) -> tuple[str, str | None, int] | None:
    """Parse `id` or `id<shape>label<close>` at pos: (id, label or None, next pos)."""
    m = NODE_ID.match(stmt, pos)
    if not m:
        return None
    node, pos = m.group(0), m.end()
    for opener, closer in SHAPES:
        if stmt.startswith(opener, pos):
            inner = pos + len(opener)
            if stmt.startswith('"', inner):
                endq = stmt.find('"', inner + 1)
                if endq < 0 or not stmt.startswith(closer, endq + 1):
                    continue
                return node, stmt[inner + 1:endq], endq + 1 + len(closer)
            end = stmt.find(closer, inner)
            if end < 0:
                continue
            label = stmt[inner:end]
            if any(c in label for c in '"[]{}()'):
                continue
            return node, label, end + len(closer)
    return node, None, pos


def parse_statement(stmt: str, graph: Mermaid) -> None:
    """One node/edge statement: node ((& node)* link node)*; record what it declares."""
    pos = 0
    groups: list[list[str]] = [[]]
    while True:
        parsed = _node_at(stmt, pos)
        if parsed is None:
            graph.errors.append(f"cannot parse {stmt!r} at column {pos + 1}")
            return
        node, label, pos = parsed
        if node in RESERVED:
            graph.errors.append(f"reserved word used as a node id: {node!r}")
        if label is not None:
            if not label.strip():
                graph.errors.append(f"empty label for {node!r}")
            elif node in graph.nodes and graph.nodes[node] != label:
                graph.errors.append(f"node {node!r} declared twice with different labels")
            graph.nodes[node] = label
        graph.referenced.add(node)
        groups[-1].append(node)
        if pos == len(stmt):
            break
        amp = AMP.match(stmt, pos)
        if amp and amp.end() > pos and "&" in amp.group(0):
            pos = amp.end()
            continue
        link = LINK.match(stmt, pos)
        if not link or link.end() == pos:
            graph.errors.append(f"cannot parse {stmt!r} at column {pos + 1}")
            return
        groups.append([])
        pos = link.end()
    for sources, targets in zip(groups, groups[1:]):
        graph.edges.extend((a, b) for a in sources for b in targets)


def parse_mermaid(source: str) -> Mermaid:
    """Check a flowchart for the mistakes that stop GitHub from rendering it."""
    graph = Mermaid()
    lines = [ln.split("%%", 1)[0].strip() for ln in source.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or not HEADER.match(lines[0]):
        graph.errors.append("first line must be 'flowchart <dir>' or 'graph <dir>'")
        return graph
    depth = 0
    for ln in lines[1:]:
        ln = ln.rstrip(";").strip()
        sub = SUBGRAPH.match(ln)
        if sub:
            depth += 1
            graph.subgraphs.append(sub.group("id"))
            rest = sub.group("rest").strip()
            if rest and not re.fullmatch(r'\["[^"]*"\]|\[[^\[\]"]*\]', rest):
                graph.errors.append(f"bad subgraph title: {ln!r}")
            continue
        if ln == "end":
            depth -= 1
            if depth < 0:
                graph.errors.append("'end' without a matching 'subgraph'")
                depth = 0
            continue
        if DIRECTIVE.match(ln):
            continue
        parse_statement(ln, graph)
    if depth:
        graph.errors.append(f"{depth} subgraph(s) not closed with 'end'")
    undeclared = graph.referenced - graph.boxes
    if undeclared:
        graph.errors.append(f"node ids used but never declared with a label: {sorted(undeclared)}")
    return graph


def expand_braces(path: str) -> list[str]:
    """`a/{b,c}.py` -> [`a/b.py`, `a/c.py`] (one level, as used in the docs)."""
    m = re.search(r"\{([^{}]+)\}", path)
    if not m:
        return [path]
    return [p for alt in m.group(1).split(",") for p in expand_braces(path[:m.start()] + alt + path[m.end():])]


def missing_paths(root: Path, paths: list[str]) -> list[str]:
    """The paths (files, folders ending in '/', or globs) that do not exist under root."""
    missing = []
    for raw in paths:
        for path in expand_braces(raw):
            if any(ch in path for ch in "*?["):
                found = glob.glob(str(root / path))
            else:
                target = root / path.rstrip("/")
                found = [path] if (target.is_dir() if path.endswith("/") else target.exists()) else []
            if not found:
                missing.append(path)
    return missing


def code_paths(cell: str) -> list[str]:
    """Backticked spans of a table cell, each a repository path."""
    return [span.strip() for span in BACKTICK.findall(cell)]


def make_targets(makefile: str) -> set[str]:
    """Targets defined in a Makefile (rules and .PHONY names)."""
    targets = set(re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?!=)", makefile, re.M))
    return targets - {".PHONY"}
