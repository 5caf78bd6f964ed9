"""Counts that tests report while they run, for docs/what_we_test.md.

A test calls :func:`count` with what it measured (faults injected, records in,
landed, dead-lettered, duplicates, lost, hostile inputs tried, plaintext leaks).
Nothing is written unless ``LAB_TEST_FIGURES`` names a file: then each call
appends one JSON line, and ``tests/faults/figures.py`` sums them after a run. The
figures therefore come from the run itself, never from constants in a test.
"""
from __future__ import annotations

import json
import os
import threading

FIGURES_VAR = "LAB_TEST_FIGURES"
_lock = threading.Lock()


def count(test: str, **figures: int) -> None:
    """Append ``figures`` (name -> count) for ``test`` to the figures file, if one is set."""
    path = os.environ.get(FIGURES_VAR)
    if not path:
        return
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"test": test, **figures}) + "\n")
