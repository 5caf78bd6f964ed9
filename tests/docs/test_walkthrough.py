"""The README's walk-through runs as written.

The fast tests check its shape (the course's eight steps, each with a time budget, a
command block and what the student sees; the venv activated once). The slow test runs
every ```bash block of the section, in order, in one shell, in a fresh copy of the
repository (the files git tracks, plus this checkout's .venv and node_modules), and
fails naming the step whose command failed. Whatever the walk-through started is
stopped afterwards, even on failure.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

from .mdcheck import fenced_blocks

README = REPO_ROOT / "README.md"
SECTION = "## Walk-through"
STEP = re.compile(r"^### Step (?P<n>\d+) — (?P<title>.+?) \(.*≈ (?P<budget>[^)]+)\)$", re.M)
TITLES = ("set-up", "ingestion", "encryption", "diagram", "federated learning", "poisoning detection",
          "case studies", "playbook")
#: Whole walk-through; the README's commands use small record counts and two rounds to stay within it.
TIMEOUT_S = 1800


def section(text: str) -> str:
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end > 0 else None]


def steps(text: str) -> list[tuple[int, str, str, str]]:
    """(number, title, budget, body) of every step of the walk-through section."""
    body = section(text)
    heads = list(STEP.finditer(body))
    return [(int(m["n"]), m["title"], m["budget"], body[m.end():(heads[i + 1].start() if i + 1 < len(heads) else None)])
            for i, m in enumerate(heads)]


def bash_blocks(text: str) -> list[tuple[str, str]]:
    """(step title, commands) for every bash block, in order."""
    return [(f"step {n} ({title})", cmd) for n, title, _, body in steps(text)
            for lang, cmd, _ in fenced_blocks(body) if lang == "bash"]


def test_the_eight_steps_each_have_a_budget_commands_and_what_you_see() -> None:
    found = steps(README.read_text(encoding="utf-8"))
    assert [n for n, *_ in found] == list(range(1, 9))
    for (n, title, budget, body), topic in zip(found, TITLES):
        assert topic in title.lower(), f"step {n} is {title!r}; the course's step {n} is {topic}"
        assert re.search(r"\d", budget), f"step {n} has no time budget"
        assert any(lang == "bash" for lang, _, _ in fenced_blocks(body)), f"step {n} has no command block"
        assert "You see" in body, f"step {n} does not say what the student should see"


def test_the_path_from_landing_to_training_is_in_order() -> None:
    commands = "\n".join(cmd for _, cmd in bash_blocks(README.read_text(encoding="utf-8")))
    order = ["make up", "kinesis_ingest.py", "eventhub_ingest.py", "pubsub_ingest.py",
             "detect.py --landing aws", "detect.py --landing azure", "detect.py --landing gcp", "make down"]
    at = [commands.find(c) for c in order]
    assert -1 not in at and at == sorted(at), dict(zip(order, at))
    last_training = commands.rfind("run.py --from-landings")
    assert commands.find("detect.py --landing gcp") < last_training < commands.find("make down")
    assert commands.count("source .venv/bin/activate") == 1
    assert README.read_text(encoding="utf-8").count("source .venv/bin/activate") >= 1


def fresh_copy(dest: Path) -> Path:
    """The tracked files (mtimes kept, so `make` sees the venv as current) + links to the venv and npm tools."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        src = REPO_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for shared in (".venv", "node_modules"):
        (dest / shared).symlink_to(REPO_ROOT / shared, target_is_directory=True)
    return dest


@pytest.mark.slow
def test_the_walkthrough_runs_in_a_fresh_copy(tmp_path: Path) -> None:
    if not (REPO_ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout (the copy is what `git ls-files` lists)")
    repo = fresh_copy(tmp_path / "repo")
    script = ["set -eo pipefail"]
    for where, commands in bash_blocks(README.read_text(encoding="utf-8")):
        script += [f"echo '>>> {where}'", commands]
    # The copy's own code first (the venv's editable install points at this checkout), its own state.
    env = {**os.environ, "PYTHONPATH": f"{repo}:{repo / 'federated-learning'}", "LAB_STATE_DIR": str(repo / ".lab")}
    env.pop("VIRTUAL_ENV", None)
    python = str(repo / ".venv" / "bin" / "python")
    # What `make setup` does last on a fresh clone (the shared venv is already current, so make skips it).
    subprocess.run([python, "-m", "lab.setup"], cwd=repo, env=env, check=True, capture_output=True, timeout=300)
    try:
        proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    finally:
        subprocess.run([python, "-m", "lab", "down"], cwd=repo, env=env, capture_output=True, timeout=120)
    out = proc.stdout + proc.stderr
    failed = re.findall(r"^>>> (.+)$", proc.stdout, re.M)
    assert proc.returncode == 0, f"walk-through failed in {failed[-1] if failed else '?'}:\n{out[-4000:]}"
    assert (repo / "models" / "fl_global.model").is_file()
    import json

    run = json.loads((repo / "models" / "fl_run.json").read_text())
    assert run["data_source"] == "landings" and set(run["silos"]) == {"aws", "azure", "gcp"}
    scans = {s: json.loads((repo / "reports" / "week6" / f"{s}-scan.json").read_text()) for s in run["silos"]}
    for silo, counts in run["silos"].items():  # the final run left out exactly what each scan quarantined
        assert counts["quarantined_left_out"] == len(scans[silo]["flagged"]), silo
