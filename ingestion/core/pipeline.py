"""One consumer step, the same on every cloud: validate a batch, land it, then checkpoint.

A cloud consumer reads raw records from its stream (Kinesis shard, Event Hubs
partition, Pub/Sub subscription), names the batch after its stream position and
hands it to :meth:`BatchLander.land`. The order inside is the whole guarantee:

1. validate (signature, contract, dedupe against ids accepted so far);
2. land the accepted records and the dead letters (envelope-encrypted);
3. only then save the checkpoint (new positions + accepted ids).

If anything fails before step 3, the in-memory state rolls back to the last
checkpoint, so a retry or a restart decides exactly as the first attempt did.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from encryption.providers.base import KeyProvider
from ingestion.core.checkpoint import Checkpoint, CheckpointStore
from ingestion.core.landing import write_deadletters, write_lines
from lab.storage import ObjectStore
from ingestion.core.limits import Rejected, dead_letters
from ingestion.core.validate import Accepted, Validator
from ingestion.records import TrustStore


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
        #: CPU seconds the consuming thread spent in :meth:`land` so far (validate, land, checkpoint):
        #: the benchmark's "our security CPU" is this figure of the secure lander minus the plain one's
        self.step_cpu_s = 0.0

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

    def land(
        self, batch_id: str, items: Sequence[tuple[bytes, str]], positions: Mapping[str, str]
    ) -> BatchResult:
        """Validate (raw, position) items, land them under batch_id, then checkpoint ``positions``."""
        start = time.thread_time()  # this thread's CPU only: the SDKs' receive loops run in others
        try:
            return self._land(batch_id, items, positions)
        finally:
            self.step_cpu_s += time.thread_time() - start

    def _land(
        self, batch_id: str, items: Sequence[tuple[bytes, str]], positions: Mapping[str, str]
    ) -> BatchResult:
        try:
            accepted, dead = self.validator.check_all(items)
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
