from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ingestion.records import Record, TrustStore, producer_signing_key, sign_record
from lab.cli import LabError
from poisoning_detection import provenance


def _records(tmp_path: Path) -> tuple[Path, Path]:
    keys = tmp_path / "keys"
    lines = []
    for i in range(6):
        producer = "producer-bad" if i < 2 else "producer-good"
        rec = Record(id=f"r{i}", silo="aws", producer=producer, timestamp=datetime.now(timezone.utc).isoformat(),
                     features=[0.0, 1.0], label=1)
        lines.append(sign_record(rec, producer_signing_key(producer, keys)).to_json())
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, keys


def _trust(keys: Path) -> TrustStore:
    """Both producers enrolled (in memory: this test is about provenance, not the store)."""
    return TrustStore({p: producer_signing_key(p, keys).public_key() for p in ("producer-bad", "producer-good")})


def test_signed_records_map_ids_to_producers(tmp_path: Path) -> None:
    path, keys = _records(tmp_path)
    ids = np.array(["r5", "r0", "r1"])
    got = provenance.producers_from_records(path, ids, _trust(keys))
    assert got.tolist() == ["producer-good", "producer-bad", "producer-bad"]


def test_tampered_record_or_unknown_id_is_refused(tmp_path: Path) -> None:
    path, keys = _records(tmp_path)
    path.write_text(path.read_text().replace('"label":1', '"label":7', 1))
    with pytest.raises(LabError, match="signature"):
        provenance.producers_from_records(path, np.array(["r0"]), _trust(keys))
    with pytest.raises(LabError, match="no record"):
        provenance.producers_from_records(path, np.array(["nope"]))
    with pytest.raises(LabError, match="ids"):
        provenance.producers_from_records(path, None)


def test_attribution_names_the_producer_that_sent_most_flags() -> None:
    producers = np.array(["a"] * 50 + ["b"] * 50 + ["m"] * 10)
    flagged = np.zeros(110, bool)
    flagged[100:109] = True
    flagged[3] = True  # one honest false positive
    table, suspects = provenance.attribute(producers, flagged)
    assert suspects == ["m"] and table["m"]["flagged"] == 9
    evenly = np.zeros(110, bool)
    evenly[[0, 60, 105]] = True
    assert provenance.attribute(producers, evenly)[1] == []


def test_a_silo_with_one_producer_never_names_it() -> None:
    # a false cluster on a clean silo: high risk, flags, but nothing to compare the producer with
    producers = np.array(["producer-only"] * 480)
    flagged = np.zeros(480, bool)
    flagged[:5] = True
    table, suspects = provenance.attribute(producers, flagged, risk_score=0.9)
    assert suspects == [] and table["producer-only"]["flagged"] == 5 and table["producer-only"]["p_value"] == 1.0


def test_poison_from_one_of_two_producers_names_that_one_only_when_risk_is_high() -> None:
    producers = np.array(["producer-honest"] * 480 + ["producer-stolen"] * 24)
    flagged = np.zeros(504, bool)
    flagged[480:] = True   # every injected record
    flagged[[7, 300]] = True  # two honest false positives
    table, suspects = provenance.attribute(producers, flagged, risk_score=1.0)
    assert suspects == ["producer-stolen"] and table["producer-stolen"]["p_value"] < provenance.MAX_P
    assert provenance.attribute(producers, flagged, risk_score=provenance.MIN_RISK - 0.01)[1] == []


def test_flags_in_proportion_to_a_producers_share_name_no_one() -> None:
    # the big producer sent most flags only because it sent most records
    producers = np.array(["big"] * 900 + ["small"] * 100)
    flagged = np.zeros(1000, bool)
    flagged[[1, 2, 3, 4, 5, 6, 7, 8, 950]] = True
    assert provenance.attribute(producers, flagged, risk_score=1.0)[1] == []
