"""The Week 6 reader on a real (moto) landing: verified, revocations and quarantine honoured,
a missing landing named in one line with the step to re-run."""
from __future__ import annotations

import pytest

from ingestion import samples, silos
from ingestion.landed import read_landed
from ingestion.quarantine import Quarantine, write_quarantine
from ingestion.records import TrustStore
from lab.cli import LabError


def _land(clean: int, stolen: int) -> list[str]:
    good = samples.generate_records("aws", clean, seed=1)
    bad = samples.generate_records("aws", stolen, seed=2, producer="aws-producer-b")
    bad = [r.model_copy(update={"id": r.id + "-b"}) for r in bad]
    from ingestion.records import producer_signing_key, sign_record

    bad = [sign_record(r, producer_signing_key("aws-producer-b")) for r in bad]
    summary = silos.ingest("aws", [r.to_json().encode() for r in good + bad], "digits")
    assert summary["verified"] and summary["landed"] == clean + stolen
    return [r.id for r in bad]


def test_reader_leaves_out_revoked_and_quarantined(clean_aws: str) -> None:
    stolen = _land(40, 5)
    full = read_landed("aws", quarantine=False)
    assert full.landed == 45 and len(full.arrays) == 45 and full.untrusted == 0
    trust = TrustStore.from_dir()
    trust.revoke("aws-producer-b")
    revoked = read_landed("aws", trust=trust, quarantine=False)
    assert revoked.untrusted == 5 and len(revoked.arrays) == 40 and not set(stolen) & set(revoked.arrays.ids)
    assert revoked.digest == full.digest  # the same landing, whoever is trusted now
    clean_id = str(full.arrays.ids[0]) if full.arrays.ids[0] not in stolen else str(full.arrays.ids[1])
    write_quarantine(Quarantine("aws", "digits", full.digest, {clean_id: "aws-producer-a"}, "test"))
    kept = read_landed("aws")
    assert kept.quarantined == 1 and clean_id not in kept.arrays.ids and len(kept.arrays) == 44
    assert kept.counts() == {"landed": 45, "untrusted_left_out": 0, "quarantined_left_out": 1, "used": 44}
    # a list made for another landing is refused, with the command that makes a current one
    write_quarantine(Quarantine("aws", "digits", "0" * 64, {clean_id: "aws-producer-a"}, "test"))
    with pytest.raises(LabError, match="another landing.*detect.py --landing aws"):
        read_landed("aws")
    assert len(read_landed("aws", quarantine=False).arrays) == 45


def test_an_empty_landing_names_the_week5_step(clean_aws: str) -> None:
    with pytest.raises(LabError, match="no empty-set records in the aws landing.*kinesis_ingest.py"):
        read_landed("aws", dataset="empty-set")
