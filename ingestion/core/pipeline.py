"""One consumer step, the same on every cloud: validate a batch, land it, then checkpoint.

A cloud consumer reads raw records from its stream (Kinesis shard, Event Hubs
partition, Pub/Sub subscription), names the batch after its stream position and
hands it to :meth:`BatchLander.land`. The order inside is the whole guarantee:

1. validate: screen (contract, signature), then dedupe against ids accepted so far;
2. land the accepted records and the dead letters (envelope-encrypted);
3. only then save the checkpoint (new positions + accepted ids).

If anything fails before step 3, the in-memory state rolls back to the last
checkpoint, so a retry or a restart decides exactly as the first attempt did.

Screening holds no state, so a consumer may screen its next batch in the thread
that fetches it (:meth:`BatchLander.screen`) while the current one lands: on two
cores the signature checks (libsodium runs without the GIL) overlap the landing's
round trips. Dedupe stays on the landing thread, in stream order.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from encryption.providers.base import KeyProvider
from ingestion.core.checkpoint import Checkpoint, CheckpointStore
from ingestion.core.landing import write_deadletters, write_lines
from lab.storage import ObjectStore
from ingestion.core.limits import Rejected, dead_letters
from ingestion.core.validate import Accepted, Validator
from ingestion.records import TrustStore


@dataclass(frozen=True)
class Screened:
    """A batch already parsed and signature-checked (:meth:`BatchLander.screen`), not yet admitted:
    one outcome per raw record, in stream order."""

    outcomes: list[Any]


@dataclass(frozen=True)
class BatchResult:
    """What one landed batch contained."""

    batch_id: str
    landed: int
    dead_lettered: int
    duplicates: int
    reasons: tuple[str, ...] = ()


@dataclass
class ConsumeStats:
    """What one consumer run did (this run only; running totals live in the checkpoint)."""

    read: int = 0
    landed: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    batches: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    #: batches found prepared but never committed at start, and removed (a silo whose landing has
    #: a second sink, e.g. GCP's BigQuery table, rolls those back before consuming)
    rolled_back: list[str] = field(default_factory=list)

    @property
    def received(self) -> int:
        """Raw records read (Pub/Sub's word for it)."""
        return self.read

    def add(self, result: BatchResult, read: int) -> None:
        """Count one landed batch of ``read`` raw records."""
        self.read += read
        self.landed += result.landed
        self.dead_lettered += result.dead_lettered
        self.duplicates += result.duplicates
        self.batches += 1 if result.landed else 0
        for reason in result.reasons:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1


class BatchLander:
    """Validates, lands and checkpoints batches for one silo's dataset."""

    def __init__(
        self,
        store: ObjectStore,
        provider: KeyProvider,
        silo: str,
        dataset: str,
        trust: TrustStore,
        checkpoints: CheckpointStore,
        sink: Callable[[str, Sequence[Accepted]], None] | None = None,
    ) -> None:
        """``sink``: a second place the accepted records go (GCP's BigQuery table), called after the
        batch landed and before the checkpoint, so a failure there rolls the batch back too."""
        self.store = store
        self.provider = provider
        self.silo = silo
        self.dataset = dataset
        self.checkpoints = checkpoints
        self.sink = sink
        self.checkpoint: Checkpoint = checkpoints.load()
        self.validator = Validator(trust, set(self.checkpoint.accepted_ids), silo=silo)
        #: CPU seconds spent in :meth:`screen` and :meth:`land` so far, on whichever thread ran them
        #: (validate, land, checkpoint): the benchmark's "our security CPU" is this figure of the
        #: secure lander minus the plain one's
        self.step_cpu_s = 0.0
        self._cpu_lock = threading.Lock()

    def reload(self) -> Checkpoint:
        """Read the checkpoint again (another process may have moved it) and dedupe against it."""
        self.checkpoint = self.checkpoints.load()
        self.validator.seen_ids = set(self.checkpoint.accepted_ids)
        return self.checkpoint

    def position(self, partition: str) -> str | None:
        """The last position checkpointed for a shard/partition (None: start from the oldest)."""
        return self.checkpoint.positions.get(partition)

    def reject(self, rejected: Sequence[Rejected]) -> int:
        """Land the records the producer could not send (over a size limit, refused by the service)
        as dead letters, then count them in the checkpoint (land first, as :meth:`land` does).

        They never had a stream position, so their batch is named after this run
        (``producer-<random>``); the dead letters' positions are ``producer:<input line>``."""
        if not rejected:
            return 0
        write_deadletters(self.store, self.provider, self.silo, f"producer-{uuid.uuid4().hex[:16]}",
                          dead_letters(rejected))
        new = self.checkpoint.copy()
        new.dead_lettered += len(rejected)
        self.checkpoints.save(new)
        self.checkpoint = new
        return len(rejected)

    def screen(self, items: Sequence[tuple[bytes, str]]) -> Screened:
        """Parse and signature-check (raw, position) items ahead of :meth:`land` (thread-safe)."""
        with self._counting_cpu():
            return Screened(self._screen(items))

    def land(
        self, batch_id: str, batch: Sequence[tuple[bytes, str]] | Screened, positions: Mapping[str, str]
    ) -> BatchResult:
        """Validate a batch ((raw, position) items, or already screened), land it under batch_id,
        then checkpoint ``positions``."""
        with self._counting_cpu():
            screened = batch if isinstance(batch, Screened) else Screened(self._screen(batch))
            return self._land(batch_id, screened, positions)

    @contextmanager
    def _counting_cpu(self) -> Iterator[None]:
        """Add this thread's CPU for the block to ``step_cpu_s``, even when it raises (the SDKs'
        receive loops run in other threads and are not counted)."""
        start = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - start
            with self._cpu_lock:
                self.step_cpu_s += spent

    def _screen(self, items: Sequence[tuple[bytes, str]]) -> list[Any]:
        return self.validator.screen_all(items)

    def _land(self, batch_id: str, screened: Screened, positions: Mapping[str, str]) -> BatchResult:
        try:
            accepted, dead = self.validator.admit_all(screened.outcomes)
            if accepted:
                write_lines(self.store, self.provider, self.silo, self.dataset, batch_id,
                            [a.line for a in accepted])
            if dead:
                write_deadletters(self.store, self.provider, self.silo, batch_id, dead)
            if self.sink is not None:
                self.sink(batch_id, accepted)
            new = self.checkpoint.copy()
            new.positions.update(positions)
            new.accepted_ids.update(a.record.id for a in accepted)
            new.dead_lettered += len(dead)
            new.batches += 1 if accepted else 0
            self.checkpoints.save(new)
        except BaseException:
            self.validator.seen_ids = set(self.checkpoint.accepted_ids)  # roll back to what is durable
            raise
        self.checkpoint = new
        return BatchResult(
            batch_id=batch_id,
            landed=len(accepted),
            dead_lettered=len(dead),
            duplicates=sum(1 for d in dead if d.is_duplicate),
            reasons=tuple(d.field or "(record)" for d in dead),
        )
