"""Provenance: map flagged records back to the producers whose keys signed them.

Ingested records carry `producer` and an Ed25519 signature (ingestion/records.py).

Naming a producer "likely compromised" leads to revoking its key, so it needs strong
evidence, all of it (`attribute`):
1. the scan found poisoning: the dataset's `risk_score` ≥ `MIN_RISK`;
2. the producer sent most (> half) of the flagged records, and its own flagged share is
   ≥ 3× the others' (noise spread over honest producers implicates no one);
3. its flagged count is more than its share of the records explains: a one-sided binomial
   test, flagged-by-it ~ Binomial(all flagged, its record share), p < `MAX_P`.
A silo with a single producer never passes 3 (its share is 100 %): flags there, true or
false, cannot be told apart from the silo's own data, so no key is blamed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from scipy.stats import binomtest

from ingestion.records import RecordError, TrustStore, parse_record
from lab.cli import LabError

#: The dataset's risk_score below which no producer is named.
MIN_RISK = 0.5
#: Largest binomial p-value for "flags concentrate in this producer beyond its share".
MAX_P = 0.01


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


def attribute(producers: np.ndarray, flagged: np.ndarray,
              risk_score: float = 1.0) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per-producer counts and the producers likely compromised (the rule in the module docstring).

    `risk_score` defaults to 1.0 so the concentration rules can be tried on their own.
    """
    table: dict[str, dict[str, float]] = {}
    total_flagged = int(flagged.sum())
    for name in sorted(set(producers.tolist())):
        mine = producers == name
        p_value = (binomtest(int((flagged & mine).sum()), total_flagged, float(mine.mean()),
                             alternative="greater").pvalue if total_flagged else 1.0)
        table[name] = {"records": int(mine.sum()), "flagged": int((flagged & mine).sum()),
                       "flagged_share": round(float(flagged[mine].mean()), 4), "p_value": float(f"{p_value:.3g}")}
    suspects: list[str] = []
    if risk_score < MIN_RISK or not total_flagged:
        return table, suspects
    for name, row in table.items():
        others = producers != name
        other_share = float(flagged[others].mean()) if others.any() else 0.0
        if (row["flagged"] > total_flagged / 2 and row["flagged_share"] >= 3 * other_share
                and row["p_value"] < MAX_P):
            suspects.append(name)
    return table, suspects
