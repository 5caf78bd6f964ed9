"""Prove what landed: re-read every batch and dead letter, decrypt, check, count.

``verified`` is true only if every object decrypts under its own context, every
record parses and carries a valid signature of a trusted producer, no record id
appears twice, and the counts match what the consumer says it accepted. A step
script reports success only from this result, never from its own counters.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from encryption.errors import EnvelopeError
from encryption.providers.base import KeyProvider
from ingestion.core.landing import batch_prefix, deadletter_prefix, read_batch, read_deadletters
from lab.storage import ObjectStore
from ingestion.records import RecordError, TrustStore


@dataclass
class VerifyResult:
    """What re-reading the landing zone found."""

    batches: int = 0
    records: int = 0
    dead_letters: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "verified": self.verified,
            "landed_batches": self.batches,
            "landed_records": self.records,
            "dead_letters": self.dead_letters,
            "landed_duplicates": self.duplicates,
            "errors": self.errors[:20],
        }


def verify_landing(
    store: ObjectStore,
    provider: KeyProvider,
    silo: str,
    dataset: str,
    trust: TrustStore,
    expected_ids: Iterable[str] | None = None,
    expected_dead_letters: int | None = None,
) -> VerifyResult:
    """Re-read and check everything a silo landed for one dataset (see module doc)."""
    result = VerifyResult()
    seen: Counter[str] = Counter()
    for key in store.list(batch_prefix(silo, dataset)):
        result.batches += 1
        try:
            records = read_batch(store, provider, key, silo, dataset, trust)
        except (EnvelopeError, RecordError, ValueError) as exc:
            result.errors.append(f"{key}: {type(exc).__name__}: {exc}")
            continue
        if not records:
            result.errors.append(f"{key}: empty batch")
        for record in records:
            if record.silo != silo:
                result.errors.append(f"{key}: record {record.id} belongs to silo {record.silo!r}")
            seen[record.id] += 1
        result.records += len(records)
    result.duplicates = sum(n - 1 for n in seen.values() if n > 1)
    if result.duplicates:
        result.errors.append(f"{result.duplicates} record(s) landed more than once")
    result.ids = set(seen)
    reasons: Counter[str] = Counter()
    try:
        for letter in read_deadletters(store, provider, silo):
            reasons[letter.field or "(record)"] += 1
            result.dead_letters += 1
    except (EnvelopeError, ValueError, KeyError) as exc:
        result.errors.append(f"{deadletter_prefix(silo)}: {type(exc).__name__}: {exc}")
    result.dead_letter_reasons = dict(reasons)
    if expected_ids is not None:
        expected = set(expected_ids)
        if expected != result.ids:
            missing, extra = len(expected - result.ids), len(result.ids - expected)
            result.errors.append(f"landed ids differ from accepted ids: {missing} missing, {extra} unexpected")
    if expected_dead_letters is not None and expected_dead_letters != result.dead_letters:
        result.errors.append(
            f"{result.dead_letters} dead letters stored, the consumer reported {expected_dead_letters}"
        )
    return result
