"""Event Hubs producer: signed lines -> EventDataBatch per partition key, with retry.

Each line gets a partition key from a stable hash of its bytes bucketed into
``KEY_BUCKETS`` keys: lines spread over partitions, and an identical resend
lands on the same partition (as the AWS producer does with Kinesis shards).
Size limits: the namespace tier (``LAB_AZURE_EVENTHUB_TIER``, ``ingestion.core.limits``)
caps one event and one batch; the SDK's ``create_batch`` caps a batch at the link's
maximum message size. A line over the tier's event size, or one that does not fit an
empty batch, is not sent but returned in ``ProduceStats.rejected`` for the run to
dead-letter, and the lines around it are sent. A batch the service refuses for
what it carries is split in halves and re-sent, down to the one event at fault.

Retry: the SDK retries each send itself (``retry_total``); on top of that a
send that still fails with a transient error is retried whole after a jittered
backoff. A batch can be all-or-nothing only as far as the service says so: if
the first attempt was in fact stored, the resend duplicates it, and the
consumer's deduplication (by record id) drops the copies — that is why dedupe
lives in the consumer, the trust boundary.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion.core.limits import EVENT_HUBS_TIERS, Rejected, ServiceLimits, admit
from lab.cli import LabError
from lab.config import settings

KEY_BUCKETS = 16


def partition_key(raw: bytes) -> str:
    return f"bucket-{int.from_bytes(hashlib.sha256(raw).digest()[:4], 'big') % KEY_BUCKETS:02d}"


@dataclass
class ProduceStats:
    sent: int = 0
    batches: int = 0
    retried_batches: int = 0
    split_batches: int = 0
    rejected: list[Rejected] = field(default_factory=list)


Member = tuple[int, bytes]  # (input index, line) of one event in a batch


def tier_limits() -> ServiceLimits:
    """The configured namespace tier's limits."""
    return EVENT_HUBS_TIERS[settings().azure_eventhub_tier]


class EventHubProducer:
    def __init__(self, client: Any, max_attempts: int = 4, base_delay_s: float = 0.1,
                 sleep: Callable[[float], None] = time.sleep, limits: ServiceLimits | None = None) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.sleep = sleep
        self.limits = limits or tier_limits()
        self.stats = ProduceStats()
        self._progress: Callable[[int], None] | None = None

    def _new_batch(self, key: str) -> Any:
        """An empty batch for a partition key, capped by the tier and by the link (the smaller)."""
        batch = self.client.create_batch(partition_key=key)
        if batch.max_size_in_bytes > self.limits.max_request_bytes:
            batch = self.client.create_batch(partition_key=key, max_size_in_bytes=self.limits.max_request_bytes)
        return batch

    def _send(self, batch: Any, members: Sequence[Member], key: str) -> None:
        from azure.eventhub.exceptions import (
            ConnectError, ConnectionLostError, EventDataError, EventDataSendError, OperationTimeoutError,
        )

        for attempt in range(self.max_attempts):
            try:
                self.client.send_batch(batch)
                self.stats.batches += 1
                self._done(len(members))
                return
            except (EventDataError, EventDataSendError) as exc:  # refused for what it carries: split it
                self._split(members, key, type(exc).__name__)
                return
            except (ConnectError, ConnectionLostError, OperationTimeoutError) as exc:
                if attempt == self.max_attempts - 1:
                    raise LabError(f"Event Hubs send failed after {self.max_attempts} attempts: "
                                   f"{type(exc).__name__}") from None
                self.stats.retried_batches += 1
                self.sleep(random.uniform(0, self.base_delay_s * 2**attempt))  # noqa: S311 - jitter, not crypto

    def _split(self, members: Sequence[Member], key: str, error: str) -> None:
        if len(members) == 1:
            self._reject(*members[0], f"Event Hubs refused the event: {error}")
            return
        self.stats.split_batches += 1
        half = len(members) // 2
        for part in (members[:half], members[half:]):
            self._send_group(part, key)

    def _reject(self, index: int, line: bytes, reason: str) -> None:
        self.stats.rejected.append(Rejected(index, line, reason))
        if self._progress:
            self._progress(1)

    def _send_group(self, group: Sequence[Member], key: str) -> None:
        """Send lines of one partition key in as few batches as fit."""
        from azure.eventhub import EventData

        batch, members = self._new_batch(key), []
        for index, line in group:
            try:
                batch.add(EventData(line))
            except ValueError:  # batch full: send it and start the next one
                if members:
                    self._send(batch, members, key)
                    batch, members = self._new_batch(key), []
                try:
                    batch.add(EventData(line))
                except ValueError:  # alone it does not fit: the event with its AMQP framing is too large
                    self._reject(index, line, f"event of {len(line)} bytes (with its framing) exceeds the "
                                              f"largest batch the hub accepts ({batch.max_size_in_bytes} bytes)")
                    continue
            members.append((index, line))
        if members:
            self._send(batch, members, key)

    def put_all(self, lines: Sequence[bytes], progress: Callable[[int], None] | None = None) -> ProduceStats:
        """Send every line that fits as one event; ``progress`` gets the count handled per batch.

        Lines the hub cannot take land in ``stats.rejected`` (with their input index)."""
        from azure.eventhub.exceptions import EventHubError

        self._progress = progress
        sendable, rejected = admit(lines, self.limits)
        for item in rejected:
            self._reject(item.index, item.raw, item.reason)
        groups: dict[str, list[Member]] = {}
        for index, line in sendable:
            groups.setdefault(partition_key(line), []).append((index, line))
        try:
            for key, group in sorted(groups.items()):
                self._send_group(group, key)
        except EventHubError as exc:
            raise LabError(f"Event Hubs producer failed: {type(exc).__name__}: {exc}") from None
        return self.stats

    def _done(self, count: int) -> None:
        self.stats.sent += count
        if self._progress:
            self._progress(count)
