"""Provenance: map flagged records back to the producers whose keys signed them.

Ingested records carry `producer` and an Ed25519 signature (ingestion/records.py). A
producer whose share of flagged records is far above its share of all records is the
likely compromised one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ingestion.records import RecordError, TrustStore, parse_record
from lab.cli import LabError


def producers_from_records(path: Path, ids: np.ndarray | None, trust: TrustStore | None = None) -> np.ndarray:
    """Producer per id, read from a JSONL file of signed records.

    With a trust store, every record's signature is verified first: provenance taken from
    an unverifiable record would let an attacker blame another producer.
    """
    if ids is None:
        raise LabError("--records needs `ids` in the .npz to match records to samples")
    if not path.is_file():
        raise LabError(f"no such file: {path}")
    owner: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = parse_record(line)
            if trust is not None:
                trust.verify(record)
        except RecordError as exc:
            raise LabError(f"{path}:{number}: {exc}") from None
        owner[record.id] = record.producer
    missing = [i for i in ids if i not in owner]
    if missing:
        raise LabError(f"{len(missing)} sample id(s) have no record in {path}, e.g. {missing[0]!r}")
    return np.array([owner[i] for i in ids])


def attribute(producers: np.ndarray, flagged: np.ndarray) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per-producer counts and the producers likely compromised.

    A producer is suspected when it sent more than half of the flagged records and its
    flagged share is at least 3× the share among the others (so noise spread evenly
    across honest producers implicates no one).
    """
    table: dict[str, dict[str, float]] = {}
    total_flagged = int(flagged.sum())
    for name in sorted(set(producers.tolist())):
        mine = producers == name
        table[name] = {"records": int(mine.sum()), "flagged": int((flagged & mine).sum()),
                       "flagged_share": round(float(flagged[mine].mean()), 4)}
    suspects = []
    for name, row in table.items():
        others = producers != name
        other_share = float(flagged[others].mean()) if others.any() else 0.0
        if total_flagged and row["flagged"] > total_flagged / 2 and row["flagged_share"] >= 3 * other_share:
            suspects.append(name)
    return table, suspects

