"""Kinesis poisoning case study end to end on moto (ingest, detect, revoke, re-ingest)."""
from __future__ import annotations

import json

import pytest

from ingestion.records import RecordError, TrustStore
from course.case_studies import kinesis_poisoning as case

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def test_forged_records_verify_until_the_producer_is_revoked() -> None:
    trust = TrustStore.from_dir()
    case.register_producer(trust, case.ATTACKER)
    bad = case.poisoned_records(4, seed=1)
    for rec in bad:
        trust.verify(rec)  # validly signed: the consumer cannot refuse them by signature
        assert rec.label == case.TARGET and rec.producer == case.ATTACKER and rec.features[-1] == 1.0
    record = json.loads(case.revoke_producer(trust, case.ATTACKER).read_text())
    assert record["revoked"] == case.ATTACKER and len(record["ed25519_sha256"]) == 64
    with pytest.raises(RecordError, match="revoked"):
        trust.verify(bad[0])


def test_detect_revoke_and_reingest() -> None:
    result = case.run()
    assert result.ok, [c for c in result.checks if not c.ok]
    assert result.evidence["reingest"]["dead_letter_fields"] == {"producer": 16}
    assert result.evidence["detection"]["compromised_producers"] == [case.ATTACKER]
