"""Small helpers shared by every script's command line: errors, summaries, progress."""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.text import Text

console = Console(stderr=True)


class LabError(Exception):
    """An expected failure with a message fit for a student: printed without a traceback."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error to stderr and exit non-zero."""
    # Text, not a markup string: a path or argument with [ / ] must print as typed, never crash rich
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
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
        shown = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
        table.add_row(Text(str(key)), Text(shown))  # values may hold user text: never markup
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


#: Most records one generate / ingest / bench run accepts (a laptop finishes it in minutes).
MAX_RECORDS = 100_000
#: Largest seed any entry point accepts: NumPy's and torch's generators take 32-bit seeds.
MAX_SEED = 2**32 - 1


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def seed(text: str) -> int:
    """argparse type: a random seed, 0 <= seed <= 2**32 - 1 (what NumPy and torch accept)."""
    value = _integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED}, got {value}")
    return value


def count(upper: int, lower: int = 1) -> Callable[[str], int]:
    """argparse type factory: an integer in [lower, upper] (an unbounded count can hang a laptop)."""

    def parse(text: str) -> int:
        value = _integer(text)
        if not lower <= value <= upper:
            raise argparse.ArgumentTypeError(f"must be between {lower} and {upper:,}, got {value}")
        return value

    parse.__name__ = f"integer {lower}..{upper}"
    return parse


def number(lower: float, upper: float) -> Callable[[str], float]:
    """argparse type factory: a finite number in (lower, upper] (timeouts, rates)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not lower < value <= upper:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be in ({lower:g}, {upper:g}], got {text}")
        return value

    parse.__name__ = f"number in ({lower:g}, {upper:g}]"
    return parse


def check_writable(path: Path) -> Path:
    """Raise LabError unless path can be (re)written: its folder exists or can be made, and is writable.

    Called before any work starts, so a bad --out fails in a second, not after minutes."""
    path = Path(path)
    if path.is_dir():
        raise LabError(f"{path} is a folder; give a file path")
    if path.exists() and not os.access(path, os.W_OK):
        raise LabError(f"{path} is not writable")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise LabError(f"cannot write {path}: {folder} is not a writable folder")
    return path


def check_writable_dir(path: Path) -> Path:
    """Like check_writable, for an output folder (created later)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise LabError(f"{path} exists and is not a folder")
    check_writable(path / ".probe")
    return path


def output_file(text: str) -> Path:
    """argparse type: a file path that can be written (checked now, before any work)."""
    try:
        return check_writable(Path(text))
    except LabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def output_dir(text: str) -> Path:
    """argparse type: a folder that can be created or written (checked now, before any work)."""
    try:
        return check_writable_dir(Path(text))
    except LabError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextmanager
def atomic_output(path: Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside path; on success it replaces path in one rename.

    A run that fails (or is interrupted) leaves the old file, or none, never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        with open(tmp, "rb") as done:
            os.fsync(done.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes | str, mode: int = 0o644) -> Path:
    """Write data to path atomically (see atomic_output)."""
    with atomic_output(path, mode) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)


def exit_code(ok: bool) -> int:
    return 0 if ok else 1


