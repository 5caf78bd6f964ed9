"""lab.cli: the argparse types, the atomic writer and the markup-safe printers every entry point uses."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from lab.cli import (MAX_SEED, LabError, atomic_output, atomic_write, check_writable, count, fail, number,
                     output_dir, output_file, print_summary, seed)
from ingestion.samples import write_jsonl


def test_seed_bounds() -> None:
    assert seed("0") == 0 and seed(str(MAX_SEED)) == MAX_SEED
    for bad in ("-1", str(MAX_SEED + 1), "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            seed(bad)


def test_count_bounds() -> None:
    records = count(100)
    assert records("1") == 1 and records("100") == 100
    for bad in ("0", "101", "-5", "1e9"):
        with pytest.raises(argparse.ArgumentTypeError):
            records(bad)
    assert count(10, lower=0)("0") == 0


def test_number_bounds() -> None:
    timeout = number(0, 60)
    assert timeout("0.5") == 0.5 and timeout("60") == 60
    for bad in ("0", "-1", "61", "nan", "inf", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            timeout(bad)


def test_output_checks(tmp_path: Path) -> None:
    assert output_file(str(tmp_path / "new" / "deeper" / "x.json")) == tmp_path / "new" / "deeper" / "x.json"
    assert not (tmp_path / "new").exists()  # checked, not created
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for bad in (str(blocker / "x.json"), str(tmp_path)):
        with pytest.raises(argparse.ArgumentTypeError):
            output_file(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        output_dir(str(blocker))
    assert output_dir(str(tmp_path / "plots")) == tmp_path / "plots"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(LabError):
        check_writable(locked / "x.json")


def test_atomic_write_leaves_the_old_file_or_none_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the run failed")
    assert list(tmp_path.iterdir()) == []
    atomic_write(target, "old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("new, half")
        raise RuntimeError("failed again")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    atomic_write(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o600


def test_a_failed_jsonl_write_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "records.jsonl"
    with pytest.raises(ValueError):
        write_jsonl(target, [b"{}", b"{}", b"bad\nline"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", ["[/x]", "[bold red]boom[/]", "a/b]c[", "[link=file:///etc/passwd]x[/link]"])
def test_printers_never_read_user_text_as_markup(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        fail(f"cannot write {text}")
    assert done.value.code == 1 and f"cannot write {text}" in capsys.readouterr().err
    print_summary({"path": text, text: [text]}, as_json=False, title="t")
    assert capsys.readouterr().out.count(text) >= 2
