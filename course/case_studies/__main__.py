"""Run one case study: the attack, the defence, and the evidence (exit 1 if the defence failed).

Examples:
  python -m course.case_studies --list
  python -m course.case_studies kinesis-poisoning
  python -m course.case_studies keyvault-rotation --json out.json
"""
from __future__ import annotations

import importlib
import json
from collections.abc import Sequence

from course.case_studies import CASES
from course.case_studies.common import CaseResult
from lab.cli import LabError, atomic_write, output_file, parser, run_main


def _epilog() -> str:
    return "case studies:\n" + "\n".join(f"  {name:<22} {summary}" for name, (_, summary) in CASES.items())


def show(result: CaseResult) -> None:
    """The evidence and the checks as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    evidence = Table(title=f"{result.name}: evidence (measured in this run)", show_header=False)
    for step, values in result.evidence.items():
        evidence.add_row(step, json.dumps(values, default=str))
    console.print(evidence)
    checks = Table(title=f"{result.name}: checks")
    for column in ("", "claim", "expected", "observed"):
        checks.add_column(column)
    for c in result.checks:
        checks.add_row("[green]PASS[/]" if c.ok else "[red]FAIL[/]", c.claim, c.expected, c.observed)
    console.print(checks)
    console.print(f"[bold]{'defence held' if result.ok else 'DEFENCE FAILED'}[/] ({result.started})")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("python -m course.case_studies", (__doc__ or "") + "\n" + _epilog())
    p.add_argument("name", nargs="?", choices=sorted(CASES), metavar="NAME", help="which case study (see below)")
    p.add_argument("--list", action="store_true", help="list the case studies and exit")
    p.add_argument("--json", type=output_file, metavar="OUT", help="also write the result as JSON here (checked first)")
    args = p.parse_args(argv)
    if args.list:
        print(_epilog())
        return 0
    if args.name is None:
        raise LabError("name a case study: " + ", ".join(CASES))
    module = importlib.import_module(f"course.case_studies.{CASES[args.name][0]}")
    result: CaseResult = module.run()
    show(result)
    if args.json:
        atomic_write(args.json, json.dumps(result.to_dict(), indent=1, default=str))
    return 0 if result.ok else 1


if __name__ == "__main__":
    run_main(main)
