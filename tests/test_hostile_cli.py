"""Hostile input on every entry point a student runs: refused in one clear line, before any work.

Classes (issue #14, item 5): a negative or too-large seed, an unbounded count, an output
path that cannot be written (checked up front: nothing is created), and text that rich
would read as markup (``[/x]``) inside an argument. Each case runs the script's own
``main`` through ``lab.cli.run_main`` in this process (fast: argument errors stop before
the heavy imports); a few run as real subprocesses to prove the command line itself.
"""
from __future__ import annotations

import importlib
import runpy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lab.cli import run_main
from lab.paths import REPO_ROOT

HUGE = str(10**9)


def _main(entry: str) -> Callable[..., int]:
    if entry.endswith(".py"):
        return runpy.run_path(str(REPO_ROOT / entry), run_name="hostile_cli")["main"]
    return importlib.import_module(entry).main


def run(entry: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """(exit code, stderr) of one entry point's main under run_main."""
    with pytest.raises(SystemExit) as done:
        run_main(_main(entry), argv)
    err = capsys.readouterr().err
    code = done.value.code
    return (code if isinstance(code, int) else 1), err


def assert_refused(code: int, err: str, *needles: str) -> None:
    assert code in (1, 2), err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert "error" in last, err  # argparse: "prog: error: ...", LabError: "error: ..."
    for needle in needles:
        assert needle in last, (needle, last)


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    return tmp_path / "out" / "result.json"


@pytest.fixture()
def unwritable(tmp_path: Path) -> Path:
    """A path whose 'folder' is a regular file: unwritable for any user, root included."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    return blocker / "sub" / "result.json"


SEED_CASES: list[tuple[str, list[str]]] = [
    ("data/generate.py", ["--silo", "aws", "--out", "{out}", "--seed", "{seed}"]),
    ("ingestion/aws/kinesis_ingest.py", ["--seed", "{seed}"]),
    ("ingestion/azure/eventhub_ingest.py", ["--seed", "{seed}"]),
    ("ingestion/gcp/pubsub_ingest.py", ["--seed", "{seed}"]),
    ("ingestion/bench.py", ["--seed", "{seed}"]),
    ("ingestion/azure/bench.py", ["--seed", "{seed}"]),
    ("federated-learning/bench.py", ["--seeds", "{seed}"]),
    ("federated-learning/run.py", ["--config", "seed={seed}"]),
    ("poisoning-detection/bench.py", ["--seeds", "{seed}"]),
    ("poisoning-detection/make_data.py", ["--out", "{out}", "--seed", "{seed}"]),
    ("poisoning-detection/detect.py", ["--data", "x.npz", "--out", "{out}", "--seed", "{seed}"]),
    ("course.scenario.__main__", ["--seed", "{seed}"]),
]

COUNT_CASES: list[tuple[str, list[str]]] = [
    ("data/generate.py", ["--silo", "aws", "--out", "{out}", "--records", HUGE]),
    ("data/generate.py", ["--silo", "aws", "--out", "{out}", "--with-invalid", "-1"]),
    ("ingestion/aws/kinesis_ingest.py", ["--records", HUGE]),
    ("ingestion/azure/eventhub_ingest.py", ["--batch-size", HUGE]),
    ("ingestion/gcp/pubsub_ingest.py", ["--with-invalid", HUGE]),
    ("ingestion/bench.py", ["--records", HUGE]),
    ("ingestion/azure/bench.py", ["--records", HUGE]),
    ("encryption.cli", ["rotate", "--enable-automatic", HUGE]),
    ("encryption/bench.py", ["--size-mib", HUGE]),
    ("federated-learning/deploy.py", ["--rounds", HUGE]),
    ("federated-learning/deploy.py", ["--timeout", "-5"]),
    ("federated-learning/deploy.py", ["--timeout", "nan"]),
    ("federated-learning/run.py", ["--config", f"num-server-rounds={HUGE}"]),
    ("poisoning-detection/detect.py", ["--data", "x.npz", "--out", "{out}", "--epochs", HUGE]),
    ("poisoning-detection/bench.py", ["--retrains", HUGE]),
    ("course.scenario.__main__", ["--rounds", HUGE]),
]

OUTPUT_CASES: list[tuple[str, list[str]]] = [
    ("data/generate.py", ["--silo", "aws", "--out", "{bad}"]),
    ("encryption.cli", ["encrypt", "--out", "{bad}"]),
    ("encryption.cli", ["keygen", "--out", "{bad}"]),
    ("encryption.cli", ["rewrap", "--dir", ".", "--checkpoint", "{bad}"]),
    ("poisoning-detection/make_data.py", ["--out", "{bad}"]),
    ("poisoning-detection/detect.py", ["--data", "x.npz", "--out", "{bad}"]),
    ("poisoning-detection/detect.py", ["--data", "x.npz", "--out", "{out}", "--plots", "{bad}"]),
    ("poisoning-detection/bench.py", ["--out", "{bad}"]),
    ("federated-learning/deploy.py", ["--out-dir", "{bad}"]),
    ("federated-learning/run.py", ["--config", "out-dir={bad}"]),
    ("course.grade", ["--json", "{bad}"]),
    ("course.case_studies.__main__", ["--json", "{bad}", "keyvault_rotation"]),
    ("course.scenario.__main__", ["--out", "{bad}"]),
]

MARKUP = "[/x][bold]boom[/]"  # no space: some flags split on whitespace
MARKUP_CASES: list[tuple[str, list[str]]] = [
    ("lab.__main__", ["up", MARKUP]),
    ("data/generate.py", ["--silo", "aws", "--out", "{out}", "--producer", MARKUP]),
    ("encryption.cli", ["header", "--in", MARKUP]),
    ("federated-learning/run.py", ["--config", MARKUP]),
    ("data/generate.py", ["--silo", MARKUP]),
]


def _fill(argv: list[str], **values: Any) -> list[str]:
    return [a.format(**{k: str(v) for k, v in values.items()}) if "{" in a and "}" in a and "[" not in a else a
            for a in argv]


def _id(case: tuple[str, list[str]]) -> str:
    return f"{case[0]} {' '.join(case[1])}"


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
@pytest.mark.parametrize("case", SEED_CASES, ids=_id)
def test_out_of_range_seeds_are_refused(case: tuple[str, list[str]], seed: str, out: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(case[0], _fill(case[1], out=out, seed=seed), capsys)
    assert_refused(code, err, "seed")
    assert not out.exists()


@pytest.mark.parametrize("case", COUNT_CASES, ids=_id)
def test_unbounded_counts_are_refused(case: tuple[str, list[str]], out: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(case[0], _fill(case[1], out=out), capsys)
    assert_refused(code, err)
    assert not out.exists()


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=_id)
def test_unwritable_outputs_are_refused_before_work(case: tuple[str, list[str]], out: Path, unwritable: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(case[0], _fill(case[1], out=out, bad=unwritable), capsys)
    assert_refused(code, err, str(unwritable.parent.parent))
    assert not unwritable.parent.exists() and not out.exists()


@pytest.mark.parametrize("case", MARKUP_CASES, ids=_id)
def test_markup_in_arguments_is_printed_as_typed(case: tuple[str, list[str]], out: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(case[0], _fill(case[1], out=out), capsys)
    assert_refused(code, err)
    assert MARKUP in err or repr(MARKUP) in err, err


def test_a_bracketed_output_path_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "[bold]" / "[/x].jsonl"
    code, _ = run("data/generate.py", ["--silo", "aws", "--records", "3", "--out", str(target)], capsys)
    assert code == 0 and len(target.read_text().splitlines()) == 3
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left


@pytest.mark.parametrize("argv", [
    ["data/generate.py", "--silo", "aws", "--out", "/tmp/x.jsonl", "--seed", "-5"],
    [None, "-m", "lab", "up", MARKUP],
], ids=["negative-seed", "markup"])
def test_the_real_command_lines(argv: list[Any]) -> None:
    cmd = [sys.executable, *(a for a in argv if a is not None)] if argv[0] is None else [sys.executable, *argv]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].count("error") >= 1
