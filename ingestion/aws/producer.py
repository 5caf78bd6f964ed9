"""Kinesis producer: PutRecords in batches, retrying only what failed.

PutRecords is not all-or-nothing: a 200 response can carry per-entry failures
(``ProvisionedThroughputExceededException``, ``InternalFailure``) while the
other entries are written. Re-sending the whole batch would duplicate the
written ones, so only the failed entries are retried, after an exponential
backoff with full jitter. Whole-call throttling is retried the same way on top
of botocore's own "standard" retries.

Why hand-written: boto3 retries whole calls only; no maintained library handles
PutRecords' per-entry results (the Kinesis Producer Library is Java).

The producer forwards each input line as-is: signing happens where the record
is made (data/generate.py), and validation happens in the consumer, the trust
boundary — a faulty line is dead-lettered there, not dropped here.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError


from lab.cli import LabError

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_PARTITION_KEY = 256
RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
    "InternalFailure", "ServiceUnavailable", "KMSThrottlingException",
})
#: The endpoint was unreachable or dropped the connection (an outage): retried like throttling. If
#: the call was in fact stored, the resend duplicates it in the stream; the consumer drops the copy.
CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError)


def partition_key(raw: bytes) -> str:
    """A stable partition key per record content (identical resends land on the same shard)."""
    return hashlib.sha256(raw).hexdigest()[:32]


def chunks(entries: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Split entries into PutRecords calls within the 500-record and 5 MiB limits."""
    batch: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        n = len(entry["Data"]) + len(entry["PartitionKey"])
        if batch and (len(batch) == MAX_RECORDS_PER_CALL or size + n > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += n
    if batch:
        yield batch


@dataclass
class ProduceStats:
    sent: int = 0
    calls: int = 0
    retried_entries: int = 0
    throttled_calls: int = 0


class KinesisProducer:
    """Puts raw lines on one stream with partial-failure retries."""

    def __init__(
        self,
        kinesis: Any,
        stream: str,
        max_attempts: int = 8,
        base_delay_s: float = 0.05,
        max_delay_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.kinesis = kinesis
        self.stream = stream
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = ProduceStats()

    def _backoff(self, attempt: int) -> None:
        self.sleep(self.rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt)))

    def put_batch(self, entries: list[dict[str, Any]]) -> None:
        """One PutRecords batch; failed entries are retried alone until all are written."""
        pending = entries
        for attempt in range(self.max_attempts):
            self.stats.calls += 1
            try:
                resp = self.kinesis.put_records(StreamName=self.stream, Records=pending)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in RETRYABLE_CODES:
                    raise LabError(f"Kinesis PutRecords failed: {code}") from None
                self.stats.throttled_calls += 1
                self._backoff(attempt)
                continue
            except CONNECTION_ERRORS:
                self.stats.throttled_calls += 1
                self._backoff(attempt)
                continue
            results = resp["Records"]
            failed = [entry for entry, result in zip(pending, results) if "ErrorCode" in result]
            self.stats.sent += len(pending) - len(failed)
            if not failed:
                return
            self.stats.retried_entries += len(failed)
            pending = failed
            self._backoff(attempt)
        raise LabError(
            f"Kinesis PutRecords: {len(pending)} record(s) still failing after {self.max_attempts} attempts"
        )

    def put_all(self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None) -> ProduceStats:
        """Send every line; ``progress`` is called with the number written per batch."""
        entries = [{"Data": line, "PartitionKey": partition_key(line)} for line in lines]
        for batch in chunks(entries):
            before = self.stats.sent
            self.put_batch(batch)
            if progress:
                progress(self.stats.sent - before)
        return self.stats
