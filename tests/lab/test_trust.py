"""The operator's trust store: explicit enrolment, revocations that last, integrity refused loudly."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion import samples
from ingestion.core.validate import DeadLetter, Validator
from ingestion.records import REVOKED_PRODUCER, UNKNOWN_PRODUCER, TrustStore, producer_signing_key, sign_record
from lab.config import settings
from lab.paths import REPO_ROOT
from lab.sealed import SealError
from lab.trust import TrustError, TrustFile, ensure_enrolled, raw_public

#: A new interpreter that loads trust from disk and says what its consumer would do with stdin's record.
FRESH_CHECK = """
import sys
from ingestion.core.validate import Accepted, Validator
from ingestion.records import TrustStore
outcome = Validator(TrustStore.from_dir(), silo=sys.argv[1]).check(sys.stdin.buffer.read(), "p")
print("accepted" if isinstance(outcome, Accepted) else outcome.reason)
"""


def fresh_process(line: bytes, silo: str) -> str:
    proc = subprocess.run([sys.executable, "-c", FRESH_CHECK, silo], input=line, capture_output=True,
                          timeout=120, cwd=REPO_ROOT, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-800:]
    return proc.stdout.decode().strip()


def lab_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lab", "trust", *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT, env=dict(os.environ), check=False)


def line_of(producer: str, silo: str = "aws", seed: int = 1) -> bytes:
    record = samples.generate_records(silo, 1, seed=seed, producer=producer)[0]  # type: ignore[arg-type]
    return record.to_json().encode()


def test_cli_enrol_list_revoke_and_the_revocation_outlives_the_process() -> None:
    line = line_of("aws-producer-r1")
    assert fresh_process(line, "aws") == UNKNOWN_PRODUCER  # holding a key is not being trusted
    enrolled = lab_cli("enroll", "aws-producer-r1", "--silo", "aws")
    assert enrolled.returncode == 0, enrolled.stderr
    assert fresh_process(line, "aws") == "accepted"
    listed = lab_cli("list")
    assert "aws-producer-r1" in listed.stdout and "active" in listed.stdout
    revoked = lab_cli("revoke", "aws-producer-r1", "--reason", "key stolen")
    assert revoked.returncode == 0, revoked.stderr
    assert fresh_process(line, "aws") == REVOKED_PRODUCER  # a restarted reader: still refused
    assert "REVOKED" in lab_cli("list").stdout
    again = lab_cli("enroll", "aws-producer-r1", "--silo", "aws")  # the stolen key can never come back
    assert again.returncode == 1 and "revoked" in again.stderr and "Traceback" not in again.stderr
    assert lab_cli("enroll", "aws-producer-r1", "--silo", "aws", "--new-key").returncode == 0
    assert fresh_process(line, "aws") == "does not verify with the key of 'aws-producer-r1'"  # old key's record
    assert fresh_process(line_of("aws-producer-r1", seed=2), "aws") == "accepted"  # signed with the new key


def test_unknown_producer_and_cross_silo_records_are_dead_lettered() -> None:
    trust = TrustStore.from_dir()
    validator = Validator(trust, silo="aws")
    unknown = validator.check(line_of("aws-producer-nobody"), "p0")
    assert isinstance(unknown, DeadLetter) and (unknown.field, unknown.reason) == ("producer", UNKNOWN_PRODUCER)
    gcp_line = line_of("gcp-producer-a", silo="gcp")  # enrolled for gcp, sent on the aws stream
    crossed = validator.check(gcp_line, "p1")
    assert isinstance(crossed, DeadLetter) and crossed.field == "silo"
    assert "'gcp'" in crossed.reason and "'aws'" in crossed.reason
    # a record claiming the stream's silo, signed by a producer enrolled elsewhere, is refused too
    record = samples.generate_records("gcp", 1, seed=3, producer="gcp-producer-a")[0]
    relabelled = sign_record(record.model_copy(update={"silo": "aws", "signature": ""}),
                             producer_signing_key("gcp-producer-a"))
    moved = validator.check(relabelled.to_json().encode(), "p2")
    assert isinstance(moved, DeadLetter) and moved.field == "silo" and "enrolled for silo 'gcp'" in moved.reason


def test_tampered_or_unsealed_store_is_refused_loudly() -> None:
    store = TrustFile()
    ensure_enrolled("aws-producer-a", "aws")
    original = store.path.read_bytes()
    try:
        doc = json.loads(original)
        intruder = producer_signing_key("aws-producer-evil")
        doc["body"]["producers"]["aws-producer-evil"] = {
            "silo": "aws", "public_key": raw_public(intruder.public_key()).hex(),
            "enrolled_at": "2026-01-01T00:00:00+00:00", "revoked_at": None, "reason": ""}
        store.path.write_text(json.dumps(doc))
        with pytest.raises(SealError, match="integrity"):
            TrustStore.from_dir()
        store.path.write_text(json.dumps(doc["body"]))  # no seal at all
        with pytest.raises(SealError, match="not sealed"):
            TrustStore.from_dir()
        listed = lab_cli("list")
        assert listed.returncode == 1 and "integrity" not in listed.stdout and "Traceback" not in listed.stderr
    finally:
        store.path.write_bytes(original)
    assert "aws-producer-evil" not in TrustStore.from_dir().keys


def test_operator_key_must_be_private_and_present(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = TrustFile(state)
    store.enroll("aws-producer-a", "aws", raw_public(producer_signing_key("aws-producer-a").public_key()))
    key = state / "keys" / "operator.key"
    assert key.stat().st_mode & 0o077 == 0
    key.chmod(0o644)
    with pytest.raises(SealError, match="readable by others"):
        TrustStore.from_dir(state)
    key.unlink()
    with pytest.raises(SealError, match="missing"):
        TrustStore.from_dir(state)
    assert settings().trust_dir != state / "trust"  # the lab's own store was never touched


def test_enrolment_rules() -> None:
    store = TrustFile()
    with pytest.raises(TrustError, match="invalid producer"):
        store.enroll("Bad Name", "aws", b"\0" * 32)
    with pytest.raises(TrustError, match="unknown silo"):
        store.enroll("aws-producer-x", "oracle", b"\0" * 32)
    with pytest.raises(TrustError, match="already enrolled"):
        store.enroll("aws-producer-a", "gcp", raw_public(producer_signing_key("aws-producer-a").public_key()))
    with pytest.raises(TrustError, match="not enrolled"):
        store.revoke("aws-producer-never")


def test_generate_refuses_a_producer_that_is_not_enrolled(tmp_path: Path) -> None:
    script = [sys.executable, str(REPO_ROOT / "data" / "generate.py"), "--silo", "azure", "--records", "3",
              "--producer", "azure-producer-new", "--out", str(tmp_path / "x.jsonl")]
    refused = subprocess.run(script, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 1 and "not enrolled" in refused.stderr and not (tmp_path / "x.jsonl").exists()
    enrolled = subprocess.run([*script, "--enroll"], capture_output=True, text=True, timeout=120, check=False)
    assert enrolled.returncode == 0, enrolled.stderr
    assert TrustStore.from_dir().silos["azure-producer-new"] == "azure"
