"""The playbook and the diagrams cite only things that exist, and only verified identifiers.

- every repository path and `python -m <module>` named in backticks exists;
- every `make X` names a target of the Makefile;
- every governance row uses an identifier (and, where the framework has one, the
  title) that was checked against its public source, and points at something in
  the repository. The allow-lists below are those checks; extend them only after
  checking the new identifier at its source and adding it to "Sources checked".
"""
from __future__ import annotations

import re
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
TOP_DIRS = "ingestion|encryption|federated-learning|poisoning-detection|lab|data|docs|diagrams|models|tests|scripts"
REPO_PATH = re.compile(
    rf"(?<![\w./=-])((?:{TOP_DIRS})/[\w./{{}},*-]*|Makefile|requirements\.(?:in|txt)|pyproject\.toml)"
)
MAKE = re.compile(r"\bmake\s+([a-z][\w-]*)")
PY_MODULE = re.compile(r"python\s+-m\s+((?:lab|ingestion|encryption)(?:\.\w+)*)")

# Verified at the sources listed in the playbook's "Sources checked" section.
# MITRE ATLAS 5.6.0, mitre-atlas/atlas-data dist/ATLAS.yaml.
ATLAS = {
    "AML.T0020": "Poison Training Data",
    "AML.T0018.000": "Poison AI Model",
    "AML.T0010.002": "AI Supply Chain Compromise: Data",
    "AML.T0059": "Erode Dataset Integrity",
    "AML.T0043.004": "Insert Backdoor Trigger",
    "AML.T0024.000": "Infer Training Data Membership",
    "AML.T0025": "Exfiltration via Cyber Means",
    "AML.M0005": "Control Access to AI Models and Data at Rest",
    "AML.M0007": "Sanitize Training Data",
    "AML.M0008": "Validate AI Model",
    "AML.M0012": "Encrypt Sensitive Information",
    "AML.M0013": "Code Signing",
    "AML.M0014": "Verify AI Artifacts",
    "AML.M0025": "Maintain AI Dataset Provenance",
}
# OWASP Machine Learning Security Top 10, 2023 edition (index.md of the project repository).
OWASP = {
    "ML01:2023": "Input Manipulation Attack",
    "ML02:2023": "Data Poisoning Attack",
    "ML03:2023": "Model Inversion Attack",
    "ML04:2023": "Membership Inference Attack",
    "ML05:2023": "Model Theft",
    "ML06:2023": "AI Supply Chain Attacks",
    "ML07:2023": "Transfer Learning Attack",
    "ML08:2023": "Model Skewing",
    "ML09:2023": "Output Integrity Attack",
    "ML10:2023": "Model Poisoning",
}
# ISO/IEC 42001:2023 Annex A control titles (outline; the standard itself is paywalled).
ISO42001 = {
    "A.4.3": "Data resources",
    "A.6.2.4": "AI system verification and validation",
    "A.6.2.6": "AI system operation and monitoring",
    "A.6.2.8": "AI system recording of event logs",
    "A.7.2": "Data for development and enhancement of AI system",
    "A.7.3": "Acquisition of data",
    "A.7.4": "Quality of data for AI systems",
    "A.7.5": "Data provenance",
    "A.7.6": "Data preparation",
}
# NIST AI RMF 1.0 subcategories (they have outcome statements, not titles; paraphrased in the doc).
NIST = {
    "GOVERN 6.2", "MAP 2.3", "MAP 4.2", "MEASURE 2.1", "MEASURE 2.7", "MEASURE 2.10",
    "MANAGE 2.3", "MANAGE 2.4", "MANAGE 3.1", "MANAGE 4.3",
}
REQUIRED = {"MAP 2.3", "MEASURE 2.7", "MANAGE 2.4", "A.7.2", "A.7.3", "A.7.4", "A.7.5", "A.7.6",
            "ML02:2023", "ML10:2023", "AML.T0020", "AML.M0007", "AML.M0025"}


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


def governance_problems(text: str) -> list[str]:
    """Every row of every table under '## ... Governance mapping' must be a verified id with a repo pointer."""
    match = re.search(r"^## [^\n]*Governance mapping[^\n]*$(.*?)(?=^## )", text, re.M | re.S)
    if not match:
        return ["no '## … Governance mapping' section"]
    problems, seen = [], set()
    for chunk in re.split(r"^### ", match.group(1), flags=re.M)[1:]:
        rows = parse_table(chunk.splitlines()[1:])
        if not rows:
            problems.append(f"subsection {chunk.splitlines()[0]!r} has no table")
        for row in rows:
            ident, title = row.get("id", ""), next(iter(list(row.values())[1:2]), "")
            seen.add(ident)
            known = {**ATLAS, **OWASP, **ISO42001}
            if ident in known:
                if title != known[ident]:
                    problems.append(f"{ident}: title {title!r} is not the verified {known[ident]!r}")
            elif ident not in NIST:
                problems.append(f"{ident!r} is not a verified identifier")
            pointer = list(row.values())[-1]
            paths, targets = cited(pointer)
            if not paths and not targets:
                problems.append(f"{ident}: names no repository path or make target")
    problems += [f"required identifier {i} is not mapped" for i in sorted(REQUIRED - seen)]
    return problems


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


def test_governance_rows_use_only_verified_identifiers_and_point_into_the_repo() -> None:
    problems = governance_problems(PLAYBOOK.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_sources_checked_names_a_source_for_each_family() -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    section = re.search(r"^## [^\n]*Sources checked[^\n]*$(.*)", text, re.M | re.S)
    assert section, "no 'Sources checked' section"
    rows = parse_table(section.group(1).splitlines())
    families = " ".join(r.get("family", "") for r in rows)
    for family in ("MITRE ATLAS", "OWASP", "NIST AI RMF", "ISO/IEC 42001"):
        assert family in families, f"no source listed for {family}"
    assert all(r.get("source checked") for r in rows)


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


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("| AML.T9999 | Made Up | `ingestion/records.py` |", "not a verified identifier"),
        ("| AML.T0020 | Poisoning Stuff | `ingestion/records.py` |", "is not the verified"),
        ("| ML02:2023 | Data Poisoning Attack | the detector |", "names no repository path"),
    ],
)
def test_governance_check_rejects_unverified_or_unmapped_rows(row: str, message: str) -> None:
    doc = f"## 7. Governance mapping\n\n### X\n\n| id | title | by |\n|---|---|---|\n{row}\n\n## 8. End\n"
    problems = governance_problems(doc)
    assert any(message in p for p in problems), problems
    assert any("required identifier" in p for p in problems)
