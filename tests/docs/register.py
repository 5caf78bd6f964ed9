"""The citation register (docs/citations.toml) and the identifiers a Markdown document cites.

Why a register: a framework id in prose is only as good as the check behind it. The
register holds one checked title per id and one rationale per (document, id) mapping;
these helpers find every id-shaped token in a document so that nothing is cited past it.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.paths import REPO_ROOT

REGISTER = REPO_ROOT / "docs" / "citations.toml"
PLAYBOOK = REPO_ROOT / "docs" / "training_environment_security_playbook.md"

#: Every shape of identifier the docs may cite, per framework (the register's keys).
ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "atlas": re.compile(r"\bAML\.[TM]\d{4}(?:\.\d{3})?\b"),
    "owasp-ml": re.compile(r"\bML\d{2}(?::\d{4})?\b"),
    "nist-ai-rmf": re.compile(r"\b(?:GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+\b"),
    "iso42001": re.compile(r"(?<![\w.])A\.\d+\.\d+(?:\.\d+)?\b"),
}
FRAMEWORK_FIELDS = ("name", "version", "date", "status", "source", "checked")
ID_FIELDS = ("framework", "title", "url")


@dataclass(frozen=True)
class Register:
    """What docs/citations.toml says: frameworks, ids, rationales per (doc, id), retired pairs."""

    checked: dt.date
    frameworks: dict[str, dict[str, Any]]
    ids: dict[str, dict[str, Any]]
    rationale: dict[tuple[str, str], str]
    retired: dict[tuple[str, str], str]

    @classmethod
    def parse(cls, text: str) -> Register:
        data = tomllib.loads(text)
        rationale: dict[tuple[str, str], str] = {}
        for m in data.get("mappings", []):
            key = (m["doc"], m["id"])
            if key in rationale:
                raise ValueError(f"mapping {key} is registered twice")
            rationale[key] = m.get("rationale", "")
        retired = {(r["doc"], r["id"]): r.get("reason", "") for r in data.get("retired", [])}
        return cls(data["checked"], data["frameworks"], data["ids"], rationale, retired)

    @classmethod
    def load(cls, path: Path = REGISTER) -> Register:
        return cls.parse(path.read_text(encoding="utf-8"))

    def problems(self) -> list[str]:
        """Entries that lack a field, point at an unknown framework, or carry no rationale."""
        found = []
        for key, fw in self.frameworks.items():
            found += [f"framework {key}: no {f}" for f in FRAMEWORK_FIELDS if not fw.get(f)]
            if fw.get("date") and not isinstance(fw["date"], dt.date):
                found.append(f"framework {key}: date must be a TOML date")
        for ident, entry in self.ids.items():
            found += [f"{ident}: no {f}" for f in ID_FIELDS if not entry.get(f)]
            fw = entry.get("framework")
            if fw not in self.frameworks:
                found.append(f"{ident}: unknown framework {fw!r}")
            elif not ID_PATTERNS[fw].fullmatch(ident):
                found.append(f"{ident}: not shaped like a {fw} id")
            if not str(entry.get("url", "")).startswith("https://"):
                found.append(f"{ident}: url must be https")
        for (doc, ident), why in self.rationale.items():
            if ident not in self.ids:
                found.append(f"{doc}: maps unregistered id {ident}")
            if len(why.split()) < 5:
                found.append(f"{doc}: {ident} has no one-line rationale")
            if "\n" in why:
                found.append(f"{doc}: {ident} rationale must be one line")
        return found


def cited_ids(text: str) -> set[str]:
    """Every framework identifier in a document (code blocks included: they are read too)."""
    return {m.group(0) for pattern in ID_PATTERNS.values() for m in pattern.finditer(text)}


def citation_problems(register: Register, doc: str, text: str) -> list[str]:
    """What is wrong with one document's citations, relative to the register."""
    found = []
    cited = cited_ids(text)
    for ident in sorted(cited):
        if ident not in register.ids:
            found.append(f"{doc}: cites {ident}, which is not in docs/citations.toml")
        elif (doc, ident) not in register.rationale:
            found.append(f"{doc}: cites {ident} with no registered rationale for this document")
        if (doc, ident) in register.retired:
            found.append(f"{doc}: cites {ident} again, retired because {register.retired[(doc, ident)]}")
    for (mdoc, ident) in register.rationale:
        if mdoc == doc and ident not in cited:
            found.append(f"{doc}: the register maps {ident}, but the document no longer cites it")
    return found
