"""Small helpers shared by every script's command line: errors, summaries, progress."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from rich.console import Console

console = Console(stderr=True)


class LabError(Exception):
    """An expected failure with a message fit for a student: printed without a traceback."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error to stderr and exit non-zero."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> NoReturn:
    """Run a script's main(); expected errors become one clear line and exit code 1."""
    try:
        code = main(argv)
    except LabError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    raise SystemExit(code)


def print_summary(summary: dict[str, Any], as_json: bool, title: str) -> None:
    """Print a step's summary: one JSON object on stdout, or a readable table."""
    if as_json:
        print(json.dumps(summary, sort_keys=True, default=str))
        return
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for key, value in summary.items():
        table.add_row(str(key), json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value))
    Console().print(table)


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the lab's conventions (description shown in --help)."""
    return argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def share(text: str) -> float:
    """argparse type: a share in (0, 1] (a poison rate, a fraction of a class)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value:g}")
    return value


def exit_code(ok: bool) -> int:
    return 0 if ok else 1


