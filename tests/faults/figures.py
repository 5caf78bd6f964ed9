"""Run the fault and hostile-input tests and print the figures they measured (for docs/what_we_test.md).

Each test appends what it counted to a JSON-lines file (tests/faults/tally.py);
this script runs pytest with that file set, sums the counts and prints one JSON
object: faults injected, records in/landed/lost, bad inputs tried, plaintext
leaks, test outcome and duration. Nothing is hard-coded: the numbers are the run's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from lab.cli import LabError, parser, run_main
from lab.paths import REPO_ROOT

DEFAULT_TESTS = ["tests/faults", "tests/security/test_envelope_fuzz.py", "tests/security/test_transport.py"]


def main(argv: Sequence[str] | None = None) -> int:
    ap: argparse.ArgumentParser = parser("figures.py", __doc__ or "")
    ap.add_argument("paths", nargs="*", default=DEFAULT_TESTS, help="test files/folders (default: %(default)s)")
    args = ap.parse_args(argv)
    missing = [p for p in args.paths if not (REPO_ROOT / p).exists()]
    if missing:
        raise LabError(f"no such test path: {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.jsonl"
        started = time.monotonic()
        proc = subprocess.run(  # noqa: S603 - our own interpreter running pytest
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.paths],
            cwd=REPO_ROOT, env={**os.environ, "LAB_TEST_FIGURES": str(figures)}, capture_output=True, text=True)
        seconds = time.monotonic() - started
        rows = [json.loads(line) for line in figures.read_text().splitlines()] if figures.exists() else []
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update({k: v for k, v in row.items() if k != "test"})
    outcome = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "(no output)"
    print(json.dumps({"command": " ".join(["pytest", *args.paths]), "pytest": outcome, "exit_code": proc.returncode,
                      "seconds": round(seconds, 1), "totals": dict(totals),
                      "by_test": dict(Counter(r["test"] for r in rows))}, indent=2, sort_keys=True))
    return proc.returncode


if __name__ == "__main__":
    run_main(main)
