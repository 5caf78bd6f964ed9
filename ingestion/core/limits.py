"""What each streaming service accepts, and what a producer does with a record it cannot send.

Every service caps one record and one request; an emulator may not (moto takes a
Kinesis record of any size), so the producer checks the limits itself. A record
over its limit is not sent and not fatal: it becomes a :class:`Rejected` — the
input line, its position in the input and the reason — and the run lands it as a
dead letter (:func:`dead_letters`), exactly like a record the consumer refused.
The records around it are sent as usual.

``size`` of a record is what the service counts: the data plus whatever else rides
with it (Kinesis counts the partition key; Pub/Sub the attributes and ordering key).
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ingestion.core.validate import DeadLetter

MIB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class ServiceLimits:
    """One service's caps: bytes per record, bytes and records per request."""

    service: str
    max_record_bytes: int
    max_request_bytes: int
    max_records_per_request: int

    def too_large(self, size: int) -> str | None:
        """The dead-letter reason for a record of ``size`` bytes, or None when it fits."""
        if size > self.max_record_bytes:
            return f"record is {size} bytes; {self.service} accepts at most {self.max_record_bytes} per record"
        return None


#: Kinesis Data Streams: 1 MiB per record (data + partition key), 5 MiB and 500 records per PutRecords
KINESIS = ServiceLimits("Kinesis", 1 * MIB, 5 * MIB, 500)
#: Pub/Sub: 10 MB per message and per publish request, 1,000 messages per request
PUBSUB = ServiceLimits("Pub/Sub", 10_000_000, 10_000_000, 1000)
#: Event Hubs, per namespace tier: the largest event and the largest batch (the same figure on every tier)
EVENT_HUBS_TIERS: dict[str, ServiceLimits] = {
    "basic": ServiceLimits("Event Hubs (basic tier)", 256 * 1024, 256 * 1024, 1_000_000),
    "standard": ServiceLimits("Event Hubs (standard tier)", 1 * MIB, 1 * MIB, 1_000_000),
    "premium": ServiceLimits("Event Hubs (premium tier)", 1 * MIB, 1 * MIB, 1_000_000),
    "dedicated": ServiceLimits("Event Hubs (dedicated tier)", 1 * MIB, 1 * MIB, 1_000_000),
}


@dataclass(frozen=True)
class Rejected:
    """An input line the producer did not send: where it was in the input, and why."""

    index: int
    raw: bytes
    reason: str

    def dead_letter(self) -> DeadLetter:
        return DeadLetter(self.reason, "", f"producer:{self.index}", base64.b64encode(self.raw).decode())


def dead_letters(rejected: Sequence[Rejected]) -> list[DeadLetter]:
    """The dead letters a run lands for the records its producer could not send."""
    return [r.dead_letter() for r in rejected]


def requests(items: Sequence[T], limits: ServiceLimits, size: Callable[[T], int]) -> Iterator[list[T]]:
    """Split items into requests within the per-request byte and count limits (order kept).

    Every item must already fit ``limits.max_record_bytes`` (see :func:`admit`)."""
    batch: list[T] = []
    total = 0
    for item in items:
        n = size(item)
        if batch and (len(batch) == limits.max_records_per_request or total + n > limits.max_request_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += n
    if batch:
        yield batch


def admit(lines: Sequence[bytes], limits: ServiceLimits,
          size: Callable[[bytes], int] = len) -> tuple[list[tuple[int, bytes]], list[Rejected]]:
    """Split input lines into (index, line) pairs to send and the ones over the record limit."""
    sendable: list[tuple[int, bytes]] = []
    rejected: list[Rejected] = []
    for index, line in enumerate(lines):
        reason = limits.too_large(size(line))
        if reason is None:
            sendable.append((index, line))
        else:
            rejected.append(Rejected(index, line, reason))
    return sendable, rejected
