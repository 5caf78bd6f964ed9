"""Event Hubs producer: signed lines -> EventDataBatch per partition key, with retry.

Each line gets a partition key from a stable hash of its bytes bucketed into
``KEY_BUCKETS`` keys: lines spread over partitions, and an identical resend
lands on the same partition (as the AWS producer does with Kinesis shards).
Batches respect the hub's maximum message size (``create_batch`` enforces it).

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lab.cli import LabError

KEY_BUCKETS = 16


def partition_key(raw: bytes) -> str:
    return f"bucket-{int.from_bytes(hashlib.sha256(raw).digest()[:4], 'big') % KEY_BUCKETS:02d}"


@dataclass
class ProduceStats:
    sent: int = 0
    batches: int = 0
    retried_batches: int = 0


class EventHubProducer:
    def __init__(self, client: Any, max_attempts: int = 4, base_delay_s: float = 0.1,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.sleep = sleep
        self.stats = ProduceStats()

    def _send(self, batch: Any) -> None:
        from azure.eventhub.exceptions import ConnectError, ConnectionLostError, OperationTimeoutError

        for attempt in range(self.max_attempts):
            try:
                self.client.send_batch(batch)
                self.stats.batches += 1
                return
            except (ConnectError, ConnectionLostError, OperationTimeoutError) as exc:
                if attempt == self.max_attempts - 1:
                    raise LabError(f"Event Hubs send failed after {self.max_attempts} attempts: "
                                   f"{type(exc).__name__}") from None
                self.stats.retried_batches += 1
                self.sleep(random.uniform(0, self.base_delay_s * 2**attempt))  # noqa: S311 - jitter, not crypto

    def put_all(self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None) -> ProduceStats:
        """Send every line as one event; ``progress`` gets the count per batch sent."""
        from azure.eventhub import EventData
        from azure.eventhub.exceptions import EventHubError

        groups: dict[str, list[bytes]] = {}
        for line in lines:
            groups.setdefault(partition_key(line), []).append(line)
        try:
            for key, group in sorted(groups.items()):
                batch, count = self.client.create_batch(partition_key=key), 0
                for line in group:
                    try:
                        batch.add(EventData(line))
                    except ValueError:  # batch full: send it and start the next one
                        if count == 0:
                            raise LabError(f"a record of {len(line)} bytes exceeds the hub's message size") from None
                        self._send(batch)
                        self._done(count, progress)
                        batch, count = self.client.create_batch(partition_key=key), 0
                        batch.add(EventData(line))
                    count += 1
                if count:
                    self._send(batch)
                    self._done(count, progress)
        except EventHubError as exc:
            raise LabError(f"Event Hubs producer failed: {type(exc).__name__}: {exc}") from None
        return self.stats

    def _done(self, count: int, progress: Callable[[int], None] | None) -> None:
        self.stats.sent += count
        if progress:
            progress(count)
