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

Size limits (``ingestion.core.limits.KINESIS``): a record over 1 MiB (data plus
partition key) is not sent but returned in ``ProduceStats.rejected`` for the run
to dead-letter; calls are cut at 500 records / 5 MiB. moto accepts larger records,
so this check is the project's own. A call the service refuses outright (e.g.
``ValidationException``) is split in halves and re-sent, down to the one record
at fault, which is rejected with the service's error code: never a lost batch.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError

from ingestion.core.limits import KINESIS, Rejected, admit, requests
from lab.cli import LabError

MAX_RECORDS_PER_CALL = KINESIS.max_records_per_request
MAX_BYTES_PER_CALL = KINESIS.max_request_bytes
MAX_PARTITION_KEY = 256
RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException",
    "InternalFailure", "ServiceUnavailable", "KMSThrottlingException",
})
#: The call was refused for what it carries (a record or the request too large, a bad key): split it
#: down to the record at fault. Any other non-retryable error (access denied, no such stream) is fatal.
SPLIT_CODES = frozenset({"ValidationException", "InvalidArgumentException", "413", "RequestEntityTooLarge"})
#: The endpoint was unreachable or dropped the connection (an outage): retried like throttling. If
#: the call was in fact stored, the resend duplicates it in the stream; the consumer drops the copy.
CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError)


def partition_key(raw: bytes) -> str:
    """A stable partition key per record content (identical resends land on the same shard)."""
    return hashlib.sha256(raw).hexdigest()[:32]


def entry_size(entry: dict[str, Any]) -> int:
    """What Kinesis counts against its limits: the data plus the partition key."""
    return len(entry["Data"]) + len(entry["PartitionKey"])


def chunks(entries: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Split entries into PutRecords calls within the 500-record and 5 MiB limits."""
    return requests(entries, KINESIS, entry_size)


@dataclass
class ProduceStats:
    sent: int = 0
    calls: int = 0
    retried_entries: int = 0
    throttled_calls: int = 0
    split_calls: int = 0
    rejected: list[Rejected] = field(default_factory=list)


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

    def put_batch(self, entries: list[dict[str, Any]], indexes: Sequence[int] | None = None) -> None:
        """One PutRecords batch; failed entries are retried alone until all are written.

        A call refused as a whole for a non-retryable reason is split in halves (a single
        entry is rejected with the reason); ``indexes`` are the entries' input positions."""
        idx = list(indexes) if indexes is not None else list(range(len(entries)))
        pending = list(zip(idx, entries))
        for attempt in range(self.max_attempts):
            self.stats.calls += 1
            try:
                resp = self.kinesis.put_records(StreamName=self.stream, Records=[e for _, e in pending])
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code in SPLIT_CODES:
                    self._split(pending, code)
                    return
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
            failed = [item for item, result in zip(pending, results) if "ErrorCode" in result]
            self.stats.sent += len(pending) - len(failed)
            if not failed:
                return
            self.stats.retried_entries += len(failed)
            pending = failed
            self._backoff(attempt)
        raise LabError(
            f"Kinesis PutRecords: {len(pending)} record(s) still failing after {self.max_attempts} attempts"
        )

    def _split(self, pending: list[tuple[int, dict[str, Any]]], code: str) -> None:
        """A refused call: re-send each half on its own; one refused record is rejected, not fatal."""
        if len(pending) == 1:
            index, entry = pending[0]
            self.stats.rejected.append(Rejected(index, entry["Data"], f"Kinesis refused the record: {code}"))
            return
        self.stats.split_calls += 1
        half = len(pending) // 2
        for part in (pending[:half], pending[half:]):
            self.put_batch([e for _, e in part], [i for i, _ in part])

    def put_all(self, lines: Sequence[bytes], progress: Callable[[int], None] | None = None) -> ProduceStats:
        """Send every line that fits; ``progress`` is called with the number handled per batch.

        Lines over the record limit land in ``stats.rejected`` (with their input index)."""
        sendable, rejected = admit(lines, KINESIS, lambda line: len(line) + len(partition_key(line)))
        self.stats.rejected.extend(rejected)
        if progress and rejected:
            progress(len(rejected))
        items = [(i, {"Data": line, "PartitionKey": partition_key(line)}) for i, line in sendable]
        for batch in requests(items, KINESIS, lambda item: entry_size(item[1])):
            before = self.stats.sent + len(self.stats.rejected)
            self.put_batch([e for _, e in batch], [i for i, _ in batch])
            if progress:
                progress(self.stats.sent + len(self.stats.rejected) - before)
        return self.stats
