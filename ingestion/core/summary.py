"""The ``--json`` summary every silo's ingestion script prints (contract in docs/DEVELOPING.md).

Keys: sent, landed, dead_lettered, duplicates, batches, kms_calls, verified, silo,
plus dataset, timings (seconds per step) and anything a silo adds under ``extra``.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ingestion.core.pipeline import ConsumeStats
from ingestion.core.verify import VerifyResult

REQUIRED_KEYS: tuple[str, ...] = (
    "sent", "landed", "dead_lettered", "duplicates", "batches", "kms_calls", "verified", "silo",
)


@dataclass
class IngestSummary:
    """Counts of one ingestion run; ``verified`` must come from ingestion.core.verify."""

    silo: str
    dataset: str
    sent: int = 0
    landed: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    batches: int = 0
    kms_calls: int = 0
    verified: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Add the wall time of a block to ``timings[step + '_s']``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            key = f"{step}_s"
            self.timings[key] = round(self.timings.get(key, 0.0) + time.perf_counter() - start, 4)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "silo": self.silo,
            "dataset": self.dataset,
            "sent": self.sent,
            "landed": self.landed,
            "dead_lettered": self.dead_lettered,
            "duplicates": self.duplicates,
            "batches": self.batches,
            "kms_calls": self.kms_calls,
            "verified": self.verified,
            "timings": dict(self.timings),
        }
        out.update(self.extra)
        return out

    def record_run(self, sent: int, consumed: ConsumeStats, result: VerifyResult, kms_calls: int,
                   rejected: int = 0, lines: int | None = None, partial: bool = False) -> None:
        """Fill the counts from one run and decide ``verified``.

        Verified needs the landing check (``result``) to pass AND the run to account for
        every record: each input line was sent or rejected by the producer (``rejected``:
        dead-lettered there, e.g. over the service's size limit), all that was sent was
        read, and each record read was either landed or dead-lettered. Accounting failures
        are added to ``result.errors``. ``partial``: the consumer stopped early on purpose
        (``max_batches``), so reading less than was sent is expected.
        """
        if lines is not None and sent + rejected != lines:
            result.errors.append(f"{lines} input records but {sent} sent and {rejected} rejected by the producer")
        if consumed.read < sent and not partial:
            result.errors.append(f"sent {sent} records but the consumer read only {consumed.read}")
        if consumed.landed + consumed.dead_lettered != consumed.read:
            result.errors.append("some records read were neither landed nor dead-lettered")
        self.sent = sent
        self.landed = consumed.landed
        self.dead_lettered = consumed.dead_lettered + rejected
        self.duplicates = consumed.duplicates
        self.batches = consumed.batches
        self.kms_calls = kms_calls
        self.verified = result.verified
        self.extra.update({
            "read": consumed.read,
            "rejected_by_producer": rejected,
            "dead_letter_fields": _with_rejected(consumed.reasons, rejected),
            "total_landed_records": result.records,
            "total_landed_batches": result.batches,
            "verify_errors": result.errors[:10],
        })


def _with_rejected(reasons: dict[str, int], rejected: int) -> dict[str, int]:
    """Dead letters per field, the producer's rejections (the whole record: field '') included."""
    out = dict(reasons)
    if rejected:
        out["(record)"] = out.get("(record)", 0) + rejected
    return out
