"""The case-study command line: names, bad input, and the pass/fail rule."""
from __future__ import annotations

import subprocess
import sys

from course.case_studies import CASES
from course.case_studies.common import CaseResult
from lab.paths import REPO_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "course.case_studies", *args], cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=60, check=False)


def test_help_lists_every_case_study() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for name in CASES:
        assert name in out.stdout


def test_unknown_or_missing_name_fails_with_one_clear_line() -> None:
    bad = _run("no-such-case")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    missing = _run()
    assert missing.returncode == 1 and "name a case study" in missing.stderr


def test_a_result_passes_only_when_every_check_holds() -> None:
    result = CaseResult("x")
    assert not result.ok  # no checks: nothing was proven
    result.check("a", True, "1", 1)
    assert result.ok
    result.check("b", False, "2", 3)
    assert not result.ok and result.to_dict()["checks"][1]["observed"] == "3"


def test_fl_case_configs_are_valid_runs() -> None:
    from course.case_studies.fl_client_poisoning import RUNS, SMALL
    from securefl.config import load_config

    for overrides in RUNS.values():
        cfg = load_config({**SMALL, **overrides})
        assert cfg.attack == "sign-flip" and cfg.attackers == 1
    assert load_config({**SMALL, **RUNS["secagg"]}).secagg and load_config({**SMALL, **RUNS["robust"]}).mode == "robust"
