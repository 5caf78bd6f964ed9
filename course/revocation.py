"""Confirm a revocation the way a restarted reader would see it: in a new Python process.

An in-memory ``TrustStore.revoke`` proves nothing about the next consumer run; this starts
a fresh interpreter (same environment, so the same state folder), which builds its trust
from the sealed store on disk and checks one record of the revoked producer.
"""
from __future__ import annotations

import subprocess  # nosec B404 - runs this interpreter on our own code, no shell
import sys

from lab.paths import REPO_ROOT

_CHECK = """
import sys
from ingestion.records import RecordError, TrustStore, parse_record
try:
    TrustStore.from_dir().verify(parse_record(sys.stdin.buffer.read()))
except RecordError as exc:
    print(exc.reason)
else:
    print("accepted")
"""


def reason_in_fresh_process(record_line: bytes, timeout_s: float = 120) -> str:
    """What a new process says about this record: ``revoked producer``, ``accepted``, ... or the error."""
    proc = subprocess.run([sys.executable, "-c", _CHECK], input=record_line, capture_output=True,  # nosec B603 - this interpreter + a fixed script
                          timeout=timeout_s, cwd=REPO_ROOT, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return f"check failed (exit {proc.returncode}): {lines[-1] if lines else 'no output'}"
    return proc.stdout.decode().strip()
