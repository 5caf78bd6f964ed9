"""The summary says verified only when the landing check passed and every record is accounted for."""
from __future__ import annotations

from ingestion.core.pipeline import BatchResult, ConsumeStats
from ingestion.core.summary import REQUIRED_KEYS, IngestSummary
from ingestion.core.verify import VerifyResult


def stats(read: int, landed: int, dead: int) -> ConsumeStats:
    out = ConsumeStats()
    out.add(BatchResult("b", landed, dead, 0, ("label",) * dead), read)
    return out


def test_contract_keys_and_verified() -> None:
    summary = IngestSummary(silo="aws", dataset="digits")
    with summary.timed("produce"):
        pass
    summary.record_run(10, stats(10, 8, 2), VerifyResult(), kms_calls=3)
    out = summary.to_dict()
    assert set(REQUIRED_KEYS) <= set(out)
    assert out["verified"] is True and out["dead_letter_fields"] == {"label": 2} and "produce_s" in out["timings"]


def test_unread_or_unaccounted_records_fail() -> None:
    lost = IngestSummary(silo="aws", dataset="digits")
    lost.record_run(12, stats(10, 8, 2), VerifyResult(), kms_calls=1)
    assert lost.verified is False and "read only 10" in lost.extra["verify_errors"][0]
    dropped = IngestSummary(silo="aws", dataset="digits")
    dropped.record_run(10, stats(10, 7, 2), VerifyResult(), kms_calls=1)
    assert dropped.verified is False
    failed_check = IngestSummary(silo="aws", dataset="digits")
    failed_check.record_run(10, stats(10, 8, 2), VerifyResult(errors=["tampered"]), kms_calls=1)
    assert failed_check.verified is False
