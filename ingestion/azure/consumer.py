"""Event Hubs consumer: per-partition checkpoints -> validate -> land in Blob -> checkpoint.

A bounded batch job, like the AWS consumer: for each partition it snapshots the
last enqueued sequence number, reads from the checkpoint (exclusive) until it has
landed everything up to that number, then stops. Each received batch is handed
to ``ingestion.core.pipeline.BatchLander`` (validate, land, then checkpoint), and
is named ``p<partition>-<first sequence number>``, so a replay after a crash
overwrites the same object: a restart neither loses nor duplicates records.

Why not the SDK's ``BlobCheckpointStore``: it lives in a separate package
(azure-eventhub-checkpointstoreblob) and checkpoints positions only; our landing
needs the accepted-id set saved atomically with the positions (dedupe across
restarts), which ``ingestion.core.checkpoint`` already does over any ObjectStore.

The SDK's receive loop is callback based and blocking: each partition's runs in
a worker thread (partitions are drained in parallel: the SDK waits up to
``max_wait_s`` for a short last batch, and those waits overlap); the callbacks
land batches under one lock, so BatchLander and its checkpoint are never used
concurrently. A partition's client is closed when it is caught up, when
``max_batches`` is reached, or on an error.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ingestion.core.pipeline import BatchLander, ConsumeStats
from lab.cli import LabError

DEFAULT_BATCH_SIZE = 300


def event_bytes(event: Any) -> bytes:
    """The raw body of an event (a data body, possibly in several sections)."""
    return b"".join(bytes(part) for part in event.body)


class EventHubConsumer:
    """Drains every partition of a hub into a BatchLander."""

    def __init__(self, client_factory: Callable[[], Any], lander: BatchLander, batch_size: int = DEFAULT_BATCH_SIZE,
                 max_wait_s: float = 0.5, stall_timeout_s: float = 30.0) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        self.client_factory = client_factory
        self.lander = lander
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        self.stall_timeout_s = stall_timeout_s
        self.stats = ConsumeStats()
        self.landed_batches = 0
        self._lock = threading.Lock()

    def targets(self, client: Any) -> dict[str, int]:
        """Last enqueued sequence number per partition, now (-1: empty)."""
        pids = client.get_partition_ids()
        with ThreadPoolExecutor(max_workers=min(8, len(pids))) as pool:  # each call is a round trip of its own
            props = list(pool.map(client.get_partition_properties, pids))
        return {pid: int(p["last_enqueued_sequence_number"]) for pid, p in zip(pids, props)}

    def run(self, max_batches: int | None = None, progress: Callable[[int], None] | None = None) -> ConsumeStats:
        """Read every partition up to where it stood when the run began (or stop after max_batches)."""
        from azure.eventhub.exceptions import EventHubError

        try:
            with self.client_factory() as probe:
                targets = self.targets(probe)
            work = []
            for pid, target in sorted(targets.items()):
                done = self.lander.position(pid)
                if target >= 0 and (done is None or int(done) < target):
                    work.append((pid, target, done))
            if work:
                with ThreadPoolExecutor(max_workers=len(work)) as pool:
                    futures = [pool.submit(self._drain, pid, target, done, max_batches, progress)
                               for pid, target, done in work]
                    for future in futures:
                        future.result()
        except EventHubError as exc:
            raise LabError(f"Event Hubs consumer failed: {type(exc).__name__}: {exc}") from None
        return self.stats

    def _drain(self, pid: str, target: int, done: str | None, max_batches: int | None,
               progress: Callable[[int], None] | None) -> None:
        finished = threading.Event()
        failure: list[BaseException] = []
        idle_rounds = [0]

        def on_batch(_context: Any, events: list[Any]) -> None:
            if finished.is_set():
                return
            try:
                if not events:
                    idle_rounds[0] += 1
                    if idle_rounds[0] * self.max_wait_s >= self.stall_timeout_s:
                        raise LabError(f"partition {pid}: no events for {self.stall_timeout_s:.0f} s "
                                       f"before reaching sequence number {target}")
                    return
                idle_rounds[0] = 0
                last = events[-1].sequence_number
                items = [(event_bytes(e), f"{pid}:{e.sequence_number}") for e in events]
                with self._lock:
                    if max_batches is not None and self.landed_batches >= max_batches:
                        finished.set()
                        return
                    result = self.lander.land(f"p{pid}-{events[0].sequence_number:012d}", items, {pid: str(last)})
                    self.stats.add(result, len(events))
                    self.landed_batches += 1
                    if progress:
                        progress(len(events))
                    if last >= target or (max_batches is not None and self.landed_batches >= max_batches):
                        finished.set()
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                failure.append(exc)
                finished.set()

        client = self.client_factory()
        start: Any = "-1" if done is None else int(done)
        worker = threading.Thread(
            target=client.receive_batch,
            kwargs={"on_event_batch": on_batch, "partition_id": pid, "starting_position": start,
                    "starting_position_inclusive": False, "max_batch_size": self.batch_size,
                    "max_wait_time": self.max_wait_s, "on_error": lambda _c, exc: failure.append(exc)},
            daemon=True,
        )
        worker.start()
        try:
            while not finished.wait(0.1):
                if not worker.is_alive():
                    break
                if failure:
                    break
        finally:
            client.close()
            worker.join(timeout=30)
        if failure:
            exc = failure[0]
            if isinstance(exc, LabError):
                raise exc
            raise LabError(f"partition {pid}: {type(exc).__name__}: {exc}") from None
        if not finished.is_set():
            raise LabError(f"partition {pid}: the receiver stopped before reaching sequence number {target}")
