"""Kinesis consumer: shard iterators from checkpoints -> validate -> land in S3 -> checkpoint.

Why our own consumer: Firehose with a Kinesis source delivers nothing on moto,
and the Kinesis Client Library is Java. This one is a bounded batch job: it
reads the shards round-robin until each has caught up (no records and
MillisBehindLatest 0) — or, with ``follow``, keeps polling while the producer is
still sending, so consuming overlaps producing as in a deployed pipeline.

While it lands one batch it already fetches the next one of that shard (one
GetRecords in a helper thread) and screens it there (contract and signature,
``BatchLander.screen``): landing overlaps the round trip to Kinesis and the next
batch's signature checks. The prefetch only reads; dedupe and positions advance
only when a batch lands.

Each GetRecords response is one batch, named ``<shardId>-<first sequence
number>``: reading the same position again (after a crash) produces the same
object key, so landing is idempotent. Checkpoints are saved only after landing
(ingestion.core.pipeline), so a restart neither loses nor duplicates records.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from ingestion.core.pipeline import BatchLander, ConsumeStats, Screened
from ingestion.core.run import idle_wait
from lab.cli import LabError

DEFAULT_BATCH_LIMIT = 500
#: prefetch threads: one per shard, up to this many (each screens its batch; more would only
#: queue for the two cores)
MAX_PREFETCH_THREADS = 8


class KinesisConsumer:
    """Drains a stream's shards into a BatchLander."""

    def __init__(
        self,
        kinesis: Any,
        stream: str,
        lander: BatchLander,
        batch_limit: int = DEFAULT_BATCH_LIMIT,
        idle_wait_s: float = 0.2,
    ) -> None:
        if not 1 <= batch_limit <= 10_000:
            raise ValueError("batch_limit must be between 1 and 10000 (the GetRecords limit)")
        self.kinesis = kinesis
        self.stream = stream
        self.lander = lander
        self.batch_limit = batch_limit
        self.idle_wait_s = idle_wait_s
        self.stats = ConsumeStats()
        #: shard -> (its next GetRecords and screening, already in flight; whether the producer was
        #: still sending then)
        self._pending: dict[str, tuple[Future[tuple[Any, Screened]], bool]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.stream}
        while True:
            resp = self.kinesis.list_shards(**kwargs)
            shards.extend(s["ShardId"] for s in resp["Shards"])
            if not resp.get("NextToken"):
                return sorted(shards)
            kwargs = {"NextToken": resp["NextToken"]}

    def _iterator(self, shard: str) -> str:
        after = self.lander.position(shard)
        kwargs: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
            if after else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        resp = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=shard, **kwargs)
        return str(resp["ShardIterator"])

    def run(
        self,
        max_batches: int | None = None,
        progress: Callable[[int], None] | None = None,
        follow: Callable[[], bool] | None = None,
    ) -> ConsumeStats:
        """Read all shards round-robin until each has caught up (or after max_batches batches).

        ``follow``: while it returns True (e.g. "the producer is still sending"), a caught-up
        shard is polled again instead of finished — the consumer runs alongside the producer.
        """
        done = 0
        shards = self.shard_ids()
        workers = max(1, min(len(shards), MAX_PREFETCH_THREADS))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefetch")
        try:
            iterators: dict[str, str | None] = {shard: self._iterator(shard) for shard in shards}
            while iterators:
                idle = True
                for shard in list(iterators):
                    if max_batches is not None and done >= max_batches:
                        return self.stats
                    landed = self._step(shard, iterators, follow, progress)
                    done += landed
                    idle = idle and not landed
                if idle and iterators:
                    idle_wait(self.idle_wait_s, follow)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise LabError(f"Kinesis consumer failed: {code} ({exc.operation_name})") from None
        finally:
            self._pending.clear()  # reads only: nothing to undo
            self._pool.shutdown(wait=True)
        return self.stats

    def _fetch(self, shard: str, iterator: str, follow: Callable[[], bool] | None,
               ) -> tuple[Future[tuple[Any, Screened]], bool]:
        """Start one GetRecords; ``follow`` is read first, so no record sent before it can slip past."""
        following = follow is not None and follow()
        assert self._pool is not None
        return self._pool.submit(self._read, shard, iterator), following

    def _read(self, shard: str, iterator: str) -> tuple[Any, Screened]:
        """One GetRecords, screened at once (in the prefetch thread)."""
        resp = self.kinesis.get_records(ShardIterator=iterator, Limit=self.batch_limit)
        return resp, self.lander.screen([(bytes(r["Data"]), f"{shard}:{r['SequenceNumber']}")
                                         for r in resp["Records"]])

    def _step(
        self,
        shard: str,
        iterators: dict[str, str | None],
        follow: Callable[[], bool] | None,
        progress: Callable[[int], None] | None,
    ) -> int:
        """One GetRecords on one shard; land it as a batch. Returns 1 if a batch was landed."""
        pending = self._pending.pop(shard, None)
        if pending is None:
            iterator = iterators[shard]
            if iterator is None:  # shard closed (resharding): nothing more will arrive
                del iterators[shard]
                return 0
            pending = self._fetch(shard, iterator, follow)
        future, following = pending
        resp, screened = future.result()
        records = resp["Records"]
        iterators[shard] = resp.get("NextShardIterator")
        if not records:
            if int(resp.get("MillisBehindLatest", 0) or 0) == 0 and not following:
                del iterators[shard]  # caught up with this shard
            return 0
        if iterators[shard] is not None:  # fetch the next batch while this one is validated and landed
            self._pending[shard] = self._fetch(shard, str(iterators[shard]), follow)
        batch_id = f"{shard}-{records[0]['SequenceNumber']}"
        result = self.lander.land(batch_id, screened, {shard: str(records[-1]["SequenceNumber"])})
        self.stats.add(result, len(records))
        if progress:
            progress(len(records))
        return 1
