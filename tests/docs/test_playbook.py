"""The playbook and the diagrams cite only things that exist; the playbook has its full structure.

- every repository path and `python -m <module>` named in backticks exists;
- every `make X` names a target of the Makefile;
- every practice has a desired outcome, anti-patterns, a risk (likelihood x impact, and
  the level that product gives), an owner as RACI with roles from the role table, and a
  command that exists; the four incident runbooks have every field; the data-governance
  section covers consent and PII, retention and deletion, and the inventory.
Framework identifiers are checked against docs/citations.toml by test_citations.py.
"""
from __future__ import annotations

import re
import importlib.util
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

from .mdcheck import BACKTICK, make_targets, missing_paths, parse_table

PLAYBOOK = REPO_ROOT / "docs" / "training_environment_security_playbook.md"
CITING_DOCS = [
    PLAYBOOK,
    REPO_ROOT / "diagrams" / "README.md",
    REPO_ROOT / "diagrams" / "week5_secure_pipeline_architecture.md",
    REPO_ROOT / "diagrams" / "week6_federated_learning_architecture.md",
]
TOP_DIRS = "ingestion|encryption|federated-learning|poisoning-detection|lab|course|infra|data|docs|diagrams|models|tests|scripts"
REPO_PATH = re.compile(
    rf"(?<![\w./=-])((?:{TOP_DIRS})/[\w./{{}},*-]*|Makefile|requirements\.(?:in|txt)|pyproject\.toml)"
)
MAKE = re.compile(r"\bmake\s+([a-z][\w-]*)")
PY_MODULE_ANY = re.compile(r"python\s+-m\s+([\w.]+)")
PY_MODULE = re.compile(r"python\s+-m\s+((?:lab|ingestion|encryption|course)(?:\.\w+)*)")

PRACTICE_FIELDS = ("desired outcome", "anti-patterns", "risk if absent", "owner (RACI)", "demonstrate")
RUNBOOK_FIELDS = ("trigger", "severity", "owner (RACI)", "contain", "recover", "communicate", "evidence",
                  "rehearse", "done when")
RUNBOOKS = ("poisoned data detected", "producer key compromised", "kms key disabled or rotation failed",
            "rogue fl client")
LEVELS = {"low": 1, "medium": 2, "high": 3}
RISK = re.compile(r"^likelihood (low|medium|high) × impact (low|medium|high) = (low|medium|high)\b")
RACI = re.compile(r"^([RACI]): (.+)$")


def _module_file(module: str) -> str:
    """``python -m a.b`` runs ``a/b.py`` or, for a package, ``a/b/__main__.py``."""
    base = module.replace(".", "/")
    return f"{base}/__main__.py" if (REPO_ROOT / base).is_dir() else f"{base}.py"


def cited(text: str) -> tuple[list[str], set[str]]:
    """Repository paths and make targets named inside backticks."""
    paths: list[str] = []
    targets: set[str] = set()
    prose = re.sub(r"^```.*?^```[ \t]*$", "", text, flags=re.M | re.S)  # code blocks cite nothing
    for span in BACKTICK.findall(prose):
        paths += [p.rstrip(".,;:") for p in REPO_PATH.findall(span)]
        paths += [_module_file(m) for m in PY_MODULE.findall(span)]
        targets |= set(MAKE.findall(span))
    return paths, targets


def test_the_playbook_exists_and_covers_the_required_topics() -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    headings = [h.lower() for h in re.findall(r"^#{2,3} (.+)$", text, re.M)]
    for topic in ("ingestion", "encryption", "federated", "poisoning", "cloud", "governance", "sources checked"):
        assert any(topic in h for h in headings), f"no section on {topic!r}"


@pytest.mark.parametrize("doc", CITING_DOCS, ids=lambda p: p.stem)
def test_every_cited_repository_path_exists(doc: Path) -> None:
    paths, _ = cited(doc.read_text(encoding="utf-8"))
    assert paths, f"{doc.name} cites no repository path"
    missing = sorted(set(missing_paths(REPO_ROOT, paths)))
    assert not missing, f"{doc.name} cites paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", CITING_DOCS, ids=lambda p: p.stem)
def test_every_make_target_named_exists(doc: Path) -> None:
    _, targets = cited(doc.read_text(encoding="utf-8"))
    defined = make_targets((REPO_ROOT / "Makefile").read_text(encoding="utf-8"))
    assert not sorted(targets - defined), f"{doc.name} names make targets the Makefile lacks: {sorted(targets - defined)}"


# --- the checks themselves must be able to fail ----------------------------------------

def test_cited_ignores_code_blocks() -> None:
    paths, targets = cited("```text\nsee `lab/x.py` and `make x`\n```\nuse `lab/cli.py` and `make fl`")
    assert (paths, targets) == (["lab/cli.py"], {"fl"})


def test_cited_finds_paths_modules_and_targets_but_not_runtime_prefixes() -> None:
    paths, targets = cited(
        "`python ingestion/aws/kinesis_ingest.py --json`, `make fl`, `raw/silo=aws/x.env`, "
        "`.lab/keys`, `python -m lab.emulators.keyvault --port 1`, `encryption/providers/{a,b}.py`."
    )
    assert paths == ["ingestion/aws/kinesis_ingest.py", "lab/emulators/keyvault.py", "encryption/providers/{a,b}.py"]
    assert targets == {"fl"}


# --- structure: practices, runbooks, data governance -----------------------------------

def section(text: str, title: str) -> str:
    """The body of the '## ...title...' section, up to the next '## '."""
    match = re.search(rf"^## [^\n]*{re.escape(title)}[^\n]*$(.*?)(?=^## |\Z)", text, re.M | re.S | re.I)
    assert match, f"no '## … {title}' section"
    return match.group(1)


def cards(body: str) -> dict[str, dict[str, str]]:
    """'### heading' -> its field/value table."""
    out = {}
    for chunk in re.split(r"^### ", body, flags=re.M)[1:]:
        lines = chunk.splitlines()
        out[lines[0].strip()] = {r["field"]: r["value"] for r in parse_table(lines[1:])}
    return out


def roles(text: str) -> set[str]:
    return {r["role"] for r in parse_table(section(text, "Roles and risk scale").splitlines())}


def risk_level(value: str) -> str | None:
    """The stated level if it is the product of likelihood and impact; None if malformed or wrong."""
    m = RISK.match(value)
    if not m:
        return None
    score = LEVELS[m.group(1)] * LEVELS[m.group(2)]
    expected = "low" if score <= 2 else "medium" if score <= 4 else "high"
    return m.group(3) if m.group(3) == expected else None


def raci_problems(value: str, known: set[str]) -> list[str]:
    """R, A, C and I each named once, exactly one accountable role, every role from the table."""
    parts = [p.strip() for p in value.split("·")]
    found, letters = [], []
    for part in parts:
        m = RACI.match(part)
        if not m:
            found.append(f"not 'X: role': {part!r}")
            continue
        letters.append(m.group(1))
        names = [n.strip() for n in m.group(2).split(",")]
        found += [f"unknown role {n!r}" for n in names if n not in known]
        if m.group(1) == "A" and len(names) != 1:
            found.append("exactly one accountable role")
    if sorted(letters) != ["A", "C", "I", "R"]:
        found.append(f"needs R, A, C and I once each, got {letters}")
    return found


def command_problems(cell: str) -> list[str]:
    """A command cell names at least one command, and everything it names exists."""
    spans = BACKTICK.findall(cell)
    if not spans:
        return [f"no command in backticks: {cell!r}"]
    found = []
    defined = make_targets((REPO_ROOT / "Makefile").read_text(encoding="utf-8"))
    for span in spans:
        paths, targets = cited(f"`{span}`")
        modules = PY_MODULE_ANY.findall(span)
        if not (paths or targets or modules):
            found.append(f"{span!r} names no make target, script or module")
        found += [f"no make target {t!r}" for t in sorted(targets - defined)]
        found += [f"no such path {p!r}" for p in missing_paths(REPO_ROOT, paths)]
        found += [f"no such module {m!r}" for m in modules if importlib.util.find_spec(m) is None]
    return found


def practice_problems(text: str) -> list[str]:
    known, found = roles(text), []
    practices = cards(section(text, "Practices"))
    if len(practices) < 8:
        found.append(f"only {len(practices)} practices")
    for name, fields in practices.items():
        found += [f"{name}: no {f!r}" for f in PRACTICE_FIELDS if not fields.get(f)]
        if fields.get("risk if absent") and risk_level(fields["risk if absent"]) is None:
            found.append(f"{name}: risk is not 'likelihood L × impact I = level' with the level of L×I")
        found += [f"{name}: {p}" for p in raci_problems(fields.get("owner (RACI)", ""), known)]
        found += [f"{name}: {p}" for p in command_problems(fields.get("demonstrate", ""))]
    return found


def runbook_problems(text: str) -> list[str]:
    known, found = roles(text), []
    books = cards(section(text, "Incident runbooks"))
    for wanted in RUNBOOKS:
        if not any(wanted in name.lower() for name in books):
            found.append(f"no runbook for {wanted!r}")
    for name, fields in books.items():
        found += [f"{name}: no {f!r}" for f in RUNBOOK_FIELDS if not fields.get(f)]
        found += [f"{name}: {p}" for p in raci_problems(fields.get("owner (RACI)", ""), known)]
        found += [f"{name}: {p}" for p in command_problems(fields.get("rehearse", ""))]
    return found


def test_every_practice_has_every_field_and_a_command_that_exists() -> None:
    problems = practice_problems(PLAYBOOK.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_the_four_runbooks_have_every_field() -> None:
    problems = runbook_problems(PLAYBOOK.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_data_governance_covers_consent_retention_and_inventory_with_provenance() -> None:
    body = section(PLAYBOOK.read_text(encoding="utf-8"), "Data governance")
    headings = [h.lower() for h in re.findall(r"^### (.+)$", body, re.M)]
    for topic in ("consent", "retention", "inventory"):
        assert any(topic in h for h in headings), f"no subsection on {topic}"
    inventory = body[body.lower().index("inventory\n"):]
    rows = parse_table(inventory[inventory.index("| provenance record"):].splitlines())
    assert len(rows) >= 4 and all(missing_paths(REPO_ROOT, cited(r["where"])[0]) == [] for r in rows)


@pytest.mark.parametrize(
    ("value", "level"),
    [("likelihood high × impact high = high: x", "high"), ("likelihood low × impact high = medium", "medium"),
     ("likelihood low × impact low = high", None), ("high risk", None)],
)
def test_risk_level_must_be_the_product(value: str, level: str | None) -> None:
    assert risk_level(value) == level


def test_raci_and_command_checks_reject_bad_cells() -> None:
    known = {"ML engineer", "AI risk owner"}
    assert not raci_problems("R: ML engineer · A: AI risk owner · C: ML engineer · I: AI risk owner", known)
    assert any("exactly one accountable" in p for p in raci_problems(
        "R: ML engineer · A: ML engineer, AI risk owner · C: ML engineer · I: ML engineer", known))
    assert any("unknown role" in p for p in raci_problems("R: intern · A: AI risk owner · C: x · I: y", known))
    assert any("needs R, A, C and I" in p for p in raci_problems("R: ML engineer · A: AI risk owner", known))
    assert any("no make target" in p for p in command_problems("`make no-such-target`"))
    assert any("no such path" in p for p in command_problems("`python ingestion/no_such.py`"))
    assert any("no such module" in p for p in command_problems("`python -m no_such_module_here`"))
    assert not command_problems("`make demo`, `python -m pytest tests/docs`")

