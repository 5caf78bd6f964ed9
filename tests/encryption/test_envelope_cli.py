"""``python -m encryption`` run as students run it (a subprocess, from the repo root)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lab.paths import REPO_ROOT

SCRIPT_ARGS = ["-m", "encryption"]
SECRET = b"patient-42 glucose=7.9 label=1 TOP-SECRET-MARKER\n" * 20
CTX = ["--context", "silo=aws", "--context", "dataset=train"]


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, *SCRIPT_ARGS, *args], input=stdin, capture_output=True, timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def cli_key(tmp_path: Path) -> Path:
    path = tmp_path / "kek.json"
    done = run("keygen", "--out", str(path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key_file"] == str(path)
    return path


def test_round_trip_files_and_pipes(tmp_path: Path, cli_key: Path) -> None:
    (tmp_path / "p.txt").write_bytes(SECRET)
    enc = run("encrypt", "--key-file", str(cli_key), *CTX, "--in", str(tmp_path / "p.txt"), "--out", str(tmp_path / "p.env"))
    assert enc.returncode == 0, enc.stderr
    assert b"TOP-SECRET" not in (tmp_path / "p.env").read_bytes()
    header = json.loads(run("header", "--in", str(tmp_path / "p.env")).stdout)
    assert header["version"] == 1 and header["provider"] == "local"
    dec = run("decrypt", "--key-file", str(cli_key), *CTX, "--in", str(tmp_path / "p.env"), "--out", str(tmp_path / "o.txt"))
    assert dec.returncode == 0, dec.stderr
    assert (tmp_path / "o.txt").read_bytes() == SECRET
    assert (tmp_path / "o.txt").stat().st_mode & 0o077 == 0
    piped = run("encrypt", "--key-file", str(cli_key), *CTX, stdin=SECRET)
    assert run("decrypt", "--key-file", str(cli_key), *CTX, stdin=piped.stdout).stdout == SECRET


@pytest.mark.parametrize("case", ["tamper", "wrong-context", "missing-context"])
def test_failures_write_nothing_and_leak_nothing(tmp_path: Path, cli_key: Path, case: str) -> None:
    blob = bytearray(run("encrypt", "--key-file", str(cli_key), *CTX, stdin=SECRET).stdout)
    context = CTX
    if case == "tamper":
        blob[-20] ^= 0x01
    elif case == "wrong-context":
        context = ["--context", "silo=aws", "--context", "dataset=test"]
    else:
        context = CTX[:2]
    (tmp_path / "in.env").write_bytes(bytes(blob))
    out = tmp_path / "out.txt"
    done = run("decrypt", "--key-file", str(cli_key), *context, "--in", str(tmp_path / "in.env"), "--out", str(out))
    assert done.returncode == 1
    assert not out.exists() and list(tmp_path.glob(".out.txt*")) == []
    assert b"TOP-SECRET" not in done.stderr and b"TOP-SECRET" not in done.stdout
    assert (b"DecryptionFailed" if case == "tamper" else b"ContextMismatch") in done.stderr
    assert done.stderr.decode().strip().count("\n") == 0  # one line
    piped = run("decrypt", "--key-file", str(cli_key), *context, stdin=bytes(blob))
    assert piped.returncode == 1 and piped.stdout == b""


def test_bad_arguments(tmp_path: Path, cli_key: Path) -> None:
    assert run("decrypt", "--provider", "gcp").returncode == 2
    bad_ctx = run("encrypt", "--key-file", str(cli_key), "--context", "silo", stdin=b"x")
    assert bad_ctx.returncode == 1 and b"key=value" in bad_ctx.stderr
    no_key = run("encrypt", "--key-file", str(tmp_path / "none.json"), *CTX, stdin=b"x")
    assert no_key.returncode == 1 and b"not found" in no_key.stderr
    assert run("keygen", "--out", str(cli_key)).returncode == 1  # refuses to overwrite
    assert run("header", stdin=b"not an envelope").returncode == 1


def test_rotate_and_rewrap_folder(tmp_path: Path, cli_key: Path) -> None:
    landing = tmp_path / "landing" / "raw" / "silo=aws" / "dataset=train"
    landing.mkdir(parents=True)
    for i in range(3):
        enc = run("encrypt", "--key-file", str(cli_key), *CTX, "--context", f"batch={i:06d}",
                  "--out", str(landing / f"batch={i:06d}.jsonl.env"), stdin=SECRET)
        assert enc.returncode == 0, enc.stderr
    rotated = json.loads(run("rotate", "--key-file", str(cli_key)).stdout)
    assert rotated["current_key_id"].endswith("/v2")
    args = ["rewrap", "--dir", str(tmp_path / "landing"), "--key-file", str(cli_key),
            "--checkpoint", str(tmp_path / "cp.json"), "--json"]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    summary: dict[str, Any] = json.loads(first.stdout.splitlines()[-1])
    assert summary["rewrapped"] == 3 and summary["verified"] is True
    second = json.loads(run(*args).stdout.splitlines()[-1])
    assert second["resumed_from_checkpoint"] == 3 and second["rewrapped"] == 0


def test_aws_round_trip_through_the_cli(tmp_path: Path, aws_cloud: object) -> None:
    made = run("keygen", "--provider", "aws", "--alias", "alias/envelope-cli-test")
    assert made.returncode == 0, made.stderr
    arn = json.loads(made.stdout)["key_id"]
    enc = run("encrypt", "--provider", "aws", "--key-id", "alias/envelope-cli-test", *CTX, stdin=SECRET)
    assert enc.returncode == 0, enc.stderr
    dec = run("decrypt", "--provider", "aws", "--key-id", arn, *CTX, stdin=enc.stdout)
    assert dec.returncode == 0 and dec.stdout == SECRET
    wrong = run("decrypt", "--provider", "aws", "--key-id", arn, "--context", "silo=aws", stdin=enc.stdout)
    assert wrong.returncode == 1 and wrong.stdout == b"" and b"ContextMismatch" in wrong.stderr
    rotated = run("rotate", "--provider", "aws", "--key-id", arn, "--enable-automatic", "365")
    assert rotated.returncode == 0 and json.loads(rotated.stdout)["enabled"] is True
    assert run("decrypt", "--provider", "aws", "--key-id", arn, *CTX, stdin=enc.stdout).stdout == SECRET
    assert run("encrypt", "--provider", "aws", *CTX, stdin=b"x").returncode == 1  # no --key-id
