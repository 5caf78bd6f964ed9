"""Scan what a silo landed, and turn the flags into the quarantine list training honours.

``detect.py --landing SILO`` and the end-to-end scenario both read the silo's landing
with ``ingestion.landed.read_landed`` (the reader the federated clients use) and write
the flagged ids here, with the producer that signed each one.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ingestion.landed import LandedSet
from ingestion.quarantine import Quarantine, quarantine_path, write_quarantine
from lab.digits import SHAPE


def read(silo: str, dataset: str = "digits") -> LandedSet:
    """Everything the silo landed from trusted producers (the old quarantine list is not applied:
    a new scan judges every record again and replaces the list)."""
    from ingestion.landed import read_landed

    return read_landed(silo, dataset, quarantine=False)


def flagged_producers(landed: LandedSet, flagged: Iterable[str | int]) -> dict[str, str]:
    """Flagged record id -> the producer whose signature it carries."""
    arrays = landed.arrays
    producer_of = dict(zip(map(str, arrays.ids), map(str, arrays.producers if arrays.producers is not None else [])))
    return {str(i): producer_of.get(str(i), "") for i in flagged}


def quarantine(landed: LandedSet, flagged: Iterable[str | int], source: str) -> tuple[Path, dict[str, Any]]:
    """Write the silo's quarantine list; return its path and what the report says about it."""
    by_id = flagged_producers(landed, flagged)
    path = write_quarantine(Quarantine(landed.silo, landed.dataset, landed.digest, by_id, source))
    return path, {"silo": landed.silo, "dataset": landed.dataset, **landed.counts(), "quarantine_file": str(path),
                  "flagged_producers": by_id, "producers": sorted(set(by_id.values()))}


__all__ = ["SHAPE", "flagged_producers", "quarantine", "quarantine_path", "read"]
