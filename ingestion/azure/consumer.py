"""Event Hubs consumer: per-partition checkpoints -> validate -> land in Blob -> checkpoint.

A bounded batch job, like the AWS consumer: for each partition it snapshots the
last enqueued sequence number, reads from the checkpoint (exclusive) until it has
landed everything up to that number, then stops. With ``follow`` it runs alongside
a producer: it lands events as they arrive and takes the snapshot only once the
producer is done, so nothing sent is missed. Each received batch is handed
to ``ingestion.core.pipeline.BatchLander`` (validate, land, then checkpoint), and
is named ``p<partition>-<first sequence number>``, so a replay after a crash
overwrites the same object: a restart neither loses nor duplicates records.

Why not the SDK's ``BlobCheckpointStore``: it lives in a separate package
(azure-eventhub-checkpointstoreblob) and checkpoints positions only; our landing
needs the accepted-id set saved atomically with the positions (dedupe across
restarts), which ``ingestion.core.checkpoint`` already does over any ObjectStore.

The SDK's receive loop is callback based and blocking: each partition's runs in
a worker thread (partitions are drained in parallel: the SDK waits up to
``max_wait_s`` for a short last batch, and those waits overlap); each callback
screens its batch at once (contract and signature, ``BatchLander.screen``: no
shared state, so partitions screen in parallel) and lands it under one lock, so
dedupe, BatchLander's landing and its checkpoint are never used concurrently.
A partition's client is closed when it is caught up, when ``max_batches`` is
reached, or on an error; the run then ends without waiting for the SDK's receive
thread to exit (it takes 0.4 s after the close, 1 s in about one leg in eight:
the bench's slow Azure rounds), as no callback of ours is left running in it.
"""
from __future__ import annotations

import threading
import time
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
        #: set once every partition's receiver has been claimed (the SDK's receive loop spins until
        #: then), or when run() ends: a producer started after it does not compete with that spin
        self.ready = threading.Event()
        self._initialized: set[str] = set()
        self._expected = 0

    def targets(self, client: Any) -> dict[str, int]:
        """Last enqueued sequence number per partition, now (-1: empty)."""
        pids = client.get_partition_ids()
        with ThreadPoolExecutor(max_workers=min(8, len(pids))) as pool:  # each call is a round trip of its own
            props = list(pool.map(client.get_partition_properties, pids))
        return {pid: int(p["last_enqueued_sequence_number"]) for pid, p in zip(pids, props)}

    def run(self, max_batches: int | None = None, progress: Callable[[int], None] | None = None,
            follow: Callable[[], bool] | None = None) -> ConsumeStats:
        """Read every partition up to where it stood when the run began (or stop after max_batches).

        ``follow``: while it returns True (e.g. "the producer is still sending"), every partition
        is read as events arrive; once it returns False the targets are taken, and each partition
        is drained up to them — the consumer runs alongside the producer, as on the other silos.
        """
        from azure.eventhub.exceptions import EventHubError

        try:
            with self.client_factory() as probe:
                if follow is None:
                    targets: dict[str, int | None] = dict(self.targets(probe))
                else:
                    targets = {pid: None for pid in probe.get_partition_ids()}  # None: not known yet
            work = []
            for pid, target in sorted(targets.items()):
                done = self.lander.position(pid)
                if target is None or (target >= 0 and (done is None or int(done) < target)):
                    work.append((pid, done))
            self._expected = len(work)
            if not work:
                self.ready.set()
            else:
                with ThreadPoolExecutor(max_workers=len(work)) as pool:
                    futures = [pool.submit(self._drain, pid, targets, done, max_batches, progress)
                               for pid, done in work]
                    if follow is not None:
                        self._await_targets(follow, targets, futures)
                    for future in futures:
                        future.result()
        except EventHubError as exc:
            raise LabError(f"Event Hubs consumer failed: {type(exc).__name__}: {exc}") from None
        finally:
            self.ready.set()  # never leave a waiting producer hanging
        return self.stats

    def _on_initialized(self, pid: str) -> None:
        with self._lock:
            self._initialized.add(pid)
            if len(self._initialized) >= self._expected:
                self.ready.set()

    def _await_targets(self, follow: Callable[[], bool], targets: dict[str, int | None], futures: list[Any]) -> None:
        """While following, wait; then fill in each partition's target (all that was sent by then)."""
        while follow() and not all(f.done() for f in futures):
            time.sleep(0.05)
        with self.client_factory() as probe:
            targets.update(self.targets(probe))  # one dict.update: the drains see every target at once

    def _drain(self, pid: str, targets: dict[str, int | None], done: str | None, max_batches: int | None,
               progress: Callable[[int], None] | None) -> None:
        finished = threading.Event()
        busy = threading.Lock()  # held while a callback runs: a partition ends between two callbacks
        failure: list[BaseException] = []
        idle_rounds = [0]
        last_landed = [-1 if done is None else int(done)]

        def caught_up() -> bool:
            target = targets[pid]
            return target is not None and last_landed[0] >= target

        def on_batch(_context: Any, events: list[Any]) -> None:
            with busy:
                if finished.is_set():
                    return
                try:
                    if not events:
                        if caught_up():
                            finished.set()
                            return
                        if targets[pid] is None:  # still following the producer: waiting is not a stall
                            return
                        idle_rounds[0] += 1
                        if idle_rounds[0] * self.max_wait_s >= self.stall_timeout_s:
                            raise LabError(f"partition {pid}: no events for {self.stall_timeout_s:.0f} s "
                                           f"before reaching sequence number {targets[pid]}")
                        return
                    idle_rounds[0] = 0
                    last = events[-1].sequence_number
                    screened = self.lander.screen([(event_bytes(e), f"{pid}:{e.sequence_number}") for e in events])
                    with self._lock:
                        if max_batches is not None and self.landed_batches >= max_batches:
                            finished.set()
                            return
                        batch_id = f"p{pid}-{events[0].sequence_number:012d}"
                        result = self.lander.land(batch_id, screened, {pid: str(last)})
                        self.stats.add(result, len(events))
                        self.landed_batches += 1
                        last_landed[0] = last
                        if progress:
                            progress(len(events))
                        if caught_up() or (max_batches is not None and self.landed_batches >= max_batches):
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
                    "max_wait_time": self.max_wait_s, "on_error": lambda _c, exc: failure.append(exc),
                    "on_partition_initialize": lambda _c: self._on_initialized(pid)},
            daemon=True,
        )
        worker.start()
        try:
            while not finished.wait(0.05):
                if caught_up():  # targets arrived after the last batch landed: no need to wait for an idle round
                    finished.set()
                    break
                if not worker.is_alive():
                    break
                if failure:
                    break
        finally:
            client.close()
            with busy:  # no callback is midway, and any later one returns at once
                reached = finished.is_set()
                finished.set()
        # The SDK's receive thread ends by itself once its current wait is over: 0.4 s after the
        # close, and 1 s in about one leg in eight (measured). Nothing of ours runs in it any more,
        # so the run does not wait for it (it is a daemon, and was the bench's slow Azure rounds).
        if failure:
            exc = failure[0]
            if isinstance(exc, LabError):
                raise exc
            raise LabError(f"partition {pid}: {type(exc).__name__}: {exc}") from None
        if not reached:
            raise LabError(f"partition {pid}: the receiver stopped before reaching sequence number {targets[pid]}")
