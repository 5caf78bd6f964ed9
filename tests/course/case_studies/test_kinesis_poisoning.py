"""Kinesis poisoning case study end to end on moto (ingest, detect, revoke, re-ingest)."""
from __future__ import annotations

import json

import pytest

from course.case_studies import kinesis_poisoning as case
from course.revocation import reason_in_fresh_process
from ingestion.records import REVOKED_PRODUCER, RecordError, TrustStore

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def test_forged_records_verify_until_the_producer_is_revoked() -> None:
    case.register_producer(case.ATTACKER)
    bad = case.poisoned_records(4, seed=1)
    trust = TrustStore.from_dir()
    for rec in bad:
        trust.verify(rec)  # validly signed: the consumer cannot refuse them by signature
        assert rec.label == case.TARGET and rec.producer == case.ATTACKER and rec.features[-1] == 1.0
    record = json.loads(case.revoke_producer(case.ATTACKER).read_text())
    assert record["revoked"] == case.ATTACKER and len(record["ed25519_sha256"]) == 64
    with pytest.raises(RecordError, match=REVOKED_PRODUCER):
        TrustStore.from_dir().verify(bad[0])
    assert reason_in_fresh_process(bad[0].to_json().encode()) == REVOKED_PRODUCER


def test_detect_revoke_and_reingest() -> None:
    result = case.run()
    assert result.ok, [c for c in result.checks if not c.ok]
    assert result.evidence["reingest"]["dead_letter_reasons"] == {f"producer: {REVOKED_PRODUCER}": 16}
    assert result.evidence["detection"]["compromised_producers"] == [case.ATTACKER]
