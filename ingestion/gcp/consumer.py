"""Pull from Pub/Sub, validate, land in GCS (sealed) and BigQuery, then ack.

Unary ``pull`` is used on purpose: the Pub/Sub emulator's streaming pull loses
part of the backlog after a session ends (see the fidelity notes).

Exactly-once landing, as a small two-phase commit:

1. validate the pulled messages (ingestion.core.validate) against the ids the
   checkpoint says were already accepted;
2. *prepare*: write the sealed batch (and its dead letters) to GCS and insert
   the rows into BigQuery tagged with the batch id;
3. *commit*: save the checkpoint (ingestion.core.checkpoint) naming the batch as
   committed and adding its ids;
4. ack the messages.

A crash before 3 leaves an uncommitted batch; at start, :meth:`recover` deletes
such batches from GCS and their rows from BigQuery, and Pub/Sub redelivers the
unacked messages. A crash between 3 and 4 gets the messages redelivered; their
ids are in the checkpoint, so they are dead-lettered as duplicates (reason
``id``) and not landed again. Pub/Sub carries no offsets, so the checkpoint's ``positions`` map records
committed batch ids.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry

from encryption.providers.base import KeyProvider
from ingestion.core.checkpoint import Checkpoint, CheckpointStore, checkpoint_key
from ingestion.core.landing import batch_id_of, batch_prefix, deadletter_prefix
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.plain import PlainLander
from ingestion.core.run import idle_wait
from ingestion.core.validate import Accepted
from ingestion.gcp.store import GcsStore
from ingestion.records import TrustStore

COMMITTED = "committed"
#: pause after an empty pull while the publisher is still sending
IDLE_WAIT_S = 0.1
#: BigQuery calls give up after this (the emulator answers a bad row with HTTP 500, which the
#: client would otherwise retry for 600 s).
BQ_DEADLINE_S = 20.0
BQ_RETRY = Retry(deadline=BQ_DEADLINE_S, timeout=BQ_DEADLINE_S)


class LandingError(RuntimeError):
    """BigQuery or GCS refused a batch; nothing was acked."""


class SimulatedCrash(RuntimeError):
    """Raised by the test hook to stop the consumer between landing and commit."""


def to_row(accepted: Accepted, batch_id: str) -> dict[str, Any]:
    """The BigQuery row of an accepted record: its fields (the ones its landed line holds) plus the batch id.

    The record passed the contract, so every field already has the table's type; nothing is
    checked twice."""
    return {**accepted.record.__dict__, "batch_id": batch_id}


def batch_id_for(message_ids: Sequence[str]) -> str:
    """Deterministic from the stream positions the batch holds.

    Pub/Sub has no offsets; its message ids are the positions: unique per
    published message and unchanged on redelivery. (Producer sequence numbers
    would repeat across runs and let a new batch overwrite an old one.)
    """
    return hashlib.sha256("\n".join(sorted(message_ids)).encode()).hexdigest()[:24]


#: Kept for callers: the GCP consumer reports the shared ingestion.core result type
ConsumeResult = ConsumeStats


class PubSubConsumer:
    """Consumes one subscription into one silo's GCS landing zone and BigQuery table.

    Validation, landing and the checkpoint are the shared ``BatchLander``'s; this class adds
    what Pub/Sub needs: pulling, acking, BigQuery as a second sink, and rolling back batches
    prepared but never committed."""

    def __init__(
        self,
        subscriber: Any,
        subscription: str,
        store: GcsStore,
        provider: KeyProvider,
        bq: Any,
        table: str,
        trust: TrustStore,
        silo: str = "gcp",
        dataset: str = "digits",
        max_messages: int = 500,
        secure: bool = True,
    ) -> None:
        """``secure=False``: the benchmark's plain baseline (ingestion.core.plain): raw rows, no seal."""
        self.subscriber = subscriber
        self.subscription = subscription
        self.store = store
        self.bq = bq
        self.table = table
        self.silo = silo
        self.dataset = dataset
        self.max_messages = max_messages
        self.checkpoints = CheckpointStore(store, checkpoint_key(silo, subscription.rsplit("/", 1)[-1]))
        self.lander: BatchLander = (
            BatchLander(store, provider, silo, dataset, trust, self.checkpoints, sink=self._insert) if secure
            else PlainLander(store, silo, dataset, self.checkpoints, sink=self._insert_plain))
        #: test hook: called after a batch is prepared and before it is committed
        self.before_commit: Callable[[str], None] | None = None

    @property
    def checkpoint(self) -> Checkpoint:
        return self.lander.checkpoint

    # -- recovery ------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Delete batches (GCS objects and BigQuery rows) that were prepared but never committed."""
        committed = {b for b, state in self.lander.reload().positions.items() if state == COMMITTED}
        rolled: list[str] = []
        for prefix in (batch_prefix(self.silo, self.dataset), deadletter_prefix(self.silo)):
            for key in list(self.store.list(prefix)):
                batch_id = batch_id_of(key)
                if batch_id not in committed:
                    self._delete_rows(batch_id)
                    self.store.delete(key)
                    rolled.append(key)
        return rolled

    def _delete_rows(self, batch_id: str) -> None:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("b", "STRING", batch_id)])
        self.bq.query(
            f"DELETE FROM `{self.table}` WHERE batch_id = @b",  # nosec B608 - table is our validated config; values are parameters
            job_config=config, retry=BQ_RETRY, timeout=BQ_DEADLINE_S,
        ).result(timeout=BQ_DEADLINE_S)

    # -- consuming -----------------------------------------------------------------

    def pull(self) -> list[Any]:
        """One unary pull (returns at once when nothing is waiting)."""
        try:
            resp = self.subscriber.pull(
                request={"subscription": self.subscription, "max_messages": self.max_messages, "return_immediately": True},
                timeout=30,
            )
        except gexc.DeadlineExceeded:
            return []
        return list(resp.received_messages)

    def handle(self, messages: Sequence[Any], result: ConsumeStats) -> None:
        """Validate, land, commit and ack one pulled batch; on failure hand the batch back at once.

        Without the nack, messages of a batch that failed to land (e.g. Cloud KMS down)
        would stay invisible until their ack deadline ran out; nacking makes a restarted
        consumer see them immediately. They are never acked, so never lost.
        """
        try:
            self._handle(messages, result)
        except BaseException:
            try:
                self.subscriber.modify_ack_deadline(
                    request={"subscription": self.subscription, "ack_ids": [m.ack_id for m in messages],
                             "ack_deadline_seconds": 0}, timeout=30)
            except gexc.GoogleAPIError:
                pass  # best effort: the ack deadline hands them back anyway
            raise

    def _handle(self, messages: Sequence[Any], result: ConsumeStats) -> None:
        items = [(bytes(m.message.data), str(m.message.message_id)) for m in messages]
        batch_id = batch_id_for([position for _, position in items])
        # duplicates are dead-lettered too, as on every silo: a replayed id leaves evidence, never vanishes
        landed = self.lander.land(batch_id, items, {batch_id: COMMITTED})
        self.subscriber.acknowledge(
            request={"subscription": self.subscription, "ack_ids": [m.ack_id for m in messages]}, timeout=30
        )
        result.add(landed, len(messages))

    def _insert_plain(self, batch_id: str, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.bq.insert_rows_json(self.table, [{**r, "batch_id": batch_id} for r in rows],
                                     retry=BQ_RETRY, timeout=BQ_DEADLINE_S)

    def _insert(self, batch_id: str, accepted: Sequence[Accepted]) -> None:
        """The second sink (BatchLander calls it after GCS, before the checkpoint): BigQuery rows."""
        if accepted:
            try:
                errors = self.bq.insert_rows_json(
                    self.table, [to_row(a, batch_id) for a in accepted], row_ids=[a.record.id for a in accepted],
                    retry=BQ_RETRY, timeout=BQ_DEADLINE_S,
                )
            except gexc.GoogleAPIError as exc:
                raise LandingError(f"BigQuery insert of batch {batch_id} failed: {type(exc).__name__}") from None
            if errors:
                raise LandingError(f"BigQuery rejected {len(errors)} row(s) of batch {batch_id}")
        if self.before_commit is not None:
            self.before_commit(batch_id)

    def run(self, expected: int | Callable[[], int | None] | None = None, idle_timeout_s: float = 3.0,
            progress: Callable[[int], None] | None = None, follow: Callable[[], bool] | None = None) -> ConsumeStats:
        """Recover, then pull until ``expected`` messages were handled or nothing came for idle_timeout_s.

        ``expected`` may be a function (None while unknown, e.g. until the publisher knows how many
        it sent). ``follow``: while it returns True (e.g. "the publisher is still sending"), an idle
        subscription is polled again instead of given up — the consumer runs alongside the publisher.
        """
        result = ConsumeStats(rolled_back=self.recover())
        idle_since = time.monotonic()
        target = expected if callable(expected) else (lambda: expected)
        while (goal := target()) is None or result.received < goal:
            following = follow is not None and follow()  # read before pulling: nothing can slip past
            messages = self.pull()
            if not messages:
                if following:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > idle_timeout_s:
                    break
                idle_wait(IDLE_WAIT_S, follow)
                continue
            self.handle(messages, result)
            if progress is not None:
                progress(len(messages))
            idle_since = time.monotonic()
        return result
