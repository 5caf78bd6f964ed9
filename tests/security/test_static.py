"""The project's own security hygiene, checked on every CI run.

- bandit finds no medium/high issue in the lab's code (a `# nosec` needs a reason
  on the same line);
- detect-secrets finds no secret in tracked files (the obviously fake emulator
  credentials carry an explicit `pragma: allowlist secret`);
- no private key or certificate is tracked; generated ones live in `.lab/`;
- every dependency in the lock file is pinned exactly.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

BIN = Path(sys.executable).parent
CODE_DIRS = [d for d in ("lab", "ingestion", "encryption", "poisoning-detection", "federated-learning", "data")
             if (REPO_ROOT / d).exists()]


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True)
    files = [f for f in out.stdout.decode().split("\0") if f]
    return [f for f in files if (REPO_ROOT / f).is_file()]


def test_bandit_reports_no_medium_or_high_issue() -> None:
    proc = subprocess.run(
        [str(BIN / "bandit"), "-q", "-r", *CODE_DIRS, "-ll", "-f", "json", "-x", "tests,.venv,node_modules"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    report = json.loads(proc.stdout)
    issues = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not issues, "bandit findings:\n" + "\n".join(issues)


def test_every_nosec_says_why() -> None:
    unexplained = []
    for name in tracked_files():
        if not name.endswith(".py") or name == "tests/security/test_static.py":
            continue
        for number, line in enumerate((REPO_ROOT / name).read_text(errors="replace").splitlines(), 1):
            if re.search(r"#\s*nosec\b", line) and not re.search(r"#\s*nosec\s+B\d+.*\S+\s*-\s*\S+", line):
                unexplained.append(f"{name}:{number}: {line.strip()}")
    assert not unexplained, "a `# nosec` must name the check and say why:\n" + "\n".join(unexplained)


def test_no_secrets_in_tracked_files() -> None:
    files = [f for f in tracked_files() if not f.endswith((".lock", "package-lock.json", "requirements.txt"))]
    proc = subprocess.run(
        [str(BIN / "detect-secrets"), "scan", *files], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    results = json.loads(proc.stdout)["results"]
    found = [f"{path}:{hit['line_number']} {hit['type']}" for path, hits in results.items() for hit in hits]
    assert not found, "possible secrets in tracked files:\n" + "\n".join(found)


def test_no_private_keys_or_certificates_tracked() -> None:
    bad = []
    for name in tracked_files():
        if name.endswith((".pem", ".key", ".p12", ".pfx", ".crt")):
            bad.append(name)
            continue
        path = REPO_ROOT / name
        if path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes()
        if re.search(rb"-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED |)PRIVATE KEY-----", text):
            bad.append(name)
    # the tests that build hostile inputs spell the marker in pieces, never whole
    assert not bad, f"key material tracked by git: {bad}"


@pytest.mark.parametrize("lock", ["requirements.txt"])
def test_lock_file_pins_every_package(lock: str) -> None:
    lines = [
        line.strip() for line in (REPO_ROOT / lock).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    unpinned = [line for line in lines if not re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[A-Za-z0-9_.+\-!]+", line)]
    assert lines and not unpinned, f"unpinned lines in {lock}: {unpinned}"


def test_lock_file_covers_requirements_in() -> None:
    pinned = {
        re.split(r"==", line)[0].lower().replace("_", "-")
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    wanted = {
        re.split(r"[=<>\[ ]", line.strip())[0].lower().replace("_", "-")
        for line in (REPO_ROOT / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    missing = sorted(wanted - pinned)
    assert not missing, f"requirements.in names packages the lock file does not pin: {missing}"
