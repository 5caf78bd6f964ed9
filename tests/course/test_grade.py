"""The grading command against this checkout and against a sabotaged copy of it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.grade import grade
from lab.paths import REPO_ROOT

pytestmark = pytest.mark.slow
IGNORE = shutil.ignore_patterns(".venv", "node_modules", ".lab", ".git", "reports", "models", "__pycache__",
                                "*.egg-info", ".pytest_cache")
#: The envelope CLI made to skip authentication: GCM's keystream without the tag check.
NO_AUTH = ("AESGCM(data_key).decrypt_into(header.nonce, body, header.aad(), out)",
           "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
           "        out[:] = Cipher(algorithms.AES(data_key), modes.CTR(header.nonce + b'\\x00\\x00\\x00\\x02'))"
           ".decryptor().update(bytes(body[:-16]))")


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "student"
    shutil.copytree(REPO_ROOT, copy, ignore=IGNORE, symlinks=True)
    return copy


def test_this_checkout_gets_full_marks_on_quick_deliverables(tmp_path: Path) -> None:
    result = grade(REPO_ROOT, ["records", "envelope", "rotation"], work=tmp_path)
    assert result["all_verified"], result["deliverables"]
    assert result["score"] == result["max"] == 35


def test_a_copy_with_an_unauthenticated_envelope_and_no_aws_script_fails_those(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    envelope = copy / "encryption" / "envelope.py"
    source = envelope.read_text()
    assert NO_AUTH[0] in source
    envelope.write_text(source.replace(NO_AUTH[0], NO_AUTH[1]))
    (copy / "ingestion" / "aws" / "kinesis_ingest.py").unlink()
    result = grade(copy, ["envelope", "rotation", "aws"], work=tmp_path / "work")
    scores = {s["key"]: s for s in result["deliverables"]}
    assert scores["envelope"]["runs"] and not scores["envelope"]["verified"]  # round trip still works
    assert "tampered body ACCEPTED" in scores["envelope"]["detail"]
    assert not scores["aws"]["present"] and scores["aws"]["points"] == 0
    assert scores["rotation"]["verified"]  # the copy's own code ran, and the rest of it is intact
    assert not result["all_verified"] and result["score"] < result["max"]


def test_cli_writes_json_and_refuses_a_folder_that_is_not_the_lab(tmp_path: Path) -> None:
    bad = subprocess.run([sys.executable, "-m", "course.grade", "--repo", str(tmp_path), "--quick"], cwd=REPO_ROOT,
                         text=True, capture_output=True, timeout=60, check=False)
    assert bad.returncode == 1 and "does not look like a copy of the lab" in bad.stderr
    out = tmp_path / "grade.json"
    ok = subprocess.run([sys.executable, "-m", "course.grade", "--only", "envelope", "--json", str(out)], cwd=REPO_ROOT,
                        text=True, capture_output=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    assert '"verified": true' in out.read_text()
