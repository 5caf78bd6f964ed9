"""One ingestion run for any silo: provision, produce and consume side by side, verify, summarise.

A cloud supplies a :class:`SiloAdapter` (``ingestion/<cloud>/ingest.py``: its
``Adapter``): how to provision, reset, produce, consume and verify on that cloud's
SDK. Everything else — the order of the steps, producing while the consumer
follows the stream, dead-lettering what the producer could not send, the
accounting that decides ``verified``, the summary — is here, once.
"""
from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from tqdm import tqdm

from encryption.providers.base import KeyProvider
from ingestion.core.landing import batch_prefix
from ingestion.core.limits import Rejected
from ingestion.core.pipeline import BatchLander, ConsumeStats
from ingestion.core.summary import IngestSummary
from ingestion.core.verify import VerifyResult, verify_landing
from ingestion.records import TrustStore
from lab.cli import LabError
from lab.storage import ObjectStore

#: How long the producer waits for the consumer to attach before sending anyway
READY_TIMEOUT_S = 30.0
#: How often an idle consumer looks whether the producer it follows has finished (no service call)
FOLLOW_TICK_S = 0.01


class Produced(Protocol):
    """What a producer reports: records the service accepted, and the ones it could not send."""

    sent: int
    rejected: list[Rejected]


class SiloAdapter(Protocol):
    """What one cloud supplies to :func:`run_ingest` (and to ``ingestion.silos``)."""

    silo: str
    #: GetRecords / events / messages per landed batch, and its upper bound on this service
    default_batch_size: int
    max_batch_size: int

    def provision(self) -> None:
        """Create or find the silo's resources (idempotent) and connect the clients."""

    @property
    def store(self) -> ObjectStore:
        """The landing store (after :meth:`provision`)."""

    @property
    def provider(self) -> KeyProvider:
        """The (caching) key provider that seals and opens the landing."""

    def kms_calls(self) -> int:
        """Requests this run made to the key service so far."""

    def reset(self, dataset: str) -> None:
        """Start clean: empty stream (or skip past it), no landed objects, no checkpoints."""

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        """The shared lander over this silo's store, provider and checkpoint."""

    def produce(self, lines: Sequence[bytes], progress: Callable[[int], None]) -> Produced:
        """Send every line that fits the service's limits."""

    def consume(self, lander: BatchLander, batch_size: int, progress: Callable[[int], None],
                follow: Callable[[], bool], sent: Callable[[], int | None], ready: threading.Event) -> ConsumeStats:
        """Land what arrives while ``follow()`` is true, then drain and stop. ``sent()`` is how many
        records were sent once the producer is done (None before); set ``ready`` once attached."""

    def verify(self, lander: BatchLander, dataset: str, trust: TrustStore) -> VerifyResult:
        """Re-read and check everything landed (ingestion.core.verify, plus any second sink)."""

    def describe(self) -> dict[str, Any]:
        """Resource names and producer details for the summary."""

    def key_state(self) -> dict[str, Any]:
        """The key-encryption key and its rotation settings, read back from the key service."""


class AdapterBase:
    """The parts of an adapter that only forward to its connected silo (set by ``provision``)."""

    silo: str
    _silo: Any = None

    @property
    def connected(self) -> Any:
        if self._silo is None:
            raise RuntimeError("provision() first")
        return self._silo

    @property
    def store(self) -> ObjectStore:
        return self.connected.store  # type: ignore[no-any-return]

    @property
    def provider(self) -> KeyProvider:
        return self.connected.provider  # type: ignore[no-any-return]

    def lander(self, dataset: str, trust: TrustStore) -> BatchLander:
        return self.connected.lander(dataset, trust)  # type: ignore[no-any-return]

    def verify(self, lander: BatchLander, dataset: str, trust: TrustStore) -> VerifyResult:
        return verify_landing(self.store, self.provider, self.silo, dataset, trust,
                              expected_ids=lander.checkpoint.accepted_ids,
                              expected_dead_letters=lander.checkpoint.dead_lettered)


def idle_wait(seconds: float, follow: Callable[[], bool] | None) -> None:
    """Wait ``seconds`` after an empty poll (a service's read limits, e.g. Kinesis' 5 GetRecords
    per second per shard), cut short when the producer being followed has just finished: its
    last records are then read at once instead of up to one poll interval later."""
    if follow is None or not follow():  # nothing to follow (any more): the plain poll interval
        time.sleep(seconds)
        return
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and follow():
        time.sleep(min(FOLLOW_TICK_S, left))


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """Exempt every object that exists before a run (SDK clients, schemas, the lines to send) from
    the cyclic garbage collector until the run ends (``gc.freeze``), so a full collection walks
    only what the run creates. Without it, full collections walking the SDKs' objects cost 20–50 µs
    a record on Azure, on whichever thread happened to allocate; frozen, under 2."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # what was frozen is collectable again once the run is over


def _bar(total: int, desc: str, show: bool, position: int) -> tqdm:
    return tqdm(total=total, desc=desc, unit="rec", disable=not show, leave=False, position=position)


def produce_and_consume(
    adapter: SiloAdapter, lines: Sequence[bytes], lander: BatchLander, summary: IngestSummary,
    batch_size: int, show_progress: bool = False, cpu: AbstractContextManager[object] | None = None,
) -> tuple[Produced, ConsumeStats]:
    """Producer and consumer side by side (the consumer in a second thread), as deployed.

    Timed as ``produce_consume``: from the first send until the last record has landed (``cpu``
    wraps the same block). The consumer attaches first, untimed: one-time setup."""
    sending, ready = threading.Event(), threading.Event()
    sending.set()
    sent: list[int] = []
    with long_lived_frozen(), _bar(len(lines), "produce", show_progress, 0) as pbar, \
            _bar(len(lines), "consume", show_progress, 1) as cbar, ThreadPoolExecutor(1, "consumer") as pool:
        consuming = pool.submit(adapter.consume, lander, batch_size, cbar.update, sending.is_set,
                                lambda: sent[0] if sent else None, ready)
        ready.wait(READY_TIMEOUT_S)
        with cpu or nullcontext(), summary.timed("produce_consume"):
            try:
                with summary.timed("produce"):
                    produced = adapter.produce(lines, pbar.update)
                sent.append(produced.sent)
            finally:
                sending.clear()  # the consumer now drains what is left and stops
            consumed = consuming.result()
    return produced, consumed


def run_ingest(
    adapter: SiloAdapter,
    lines: Sequence[bytes],
    dataset: str = "digits",
    do_reset: bool = False,
    batch_size: int | None = None,
    show_progress: bool = True,
    trust: TrustStore | None = None,
    cpu: AbstractContextManager[object] | None = None,
) -> tuple[IngestSummary, VerifyResult]:
    """Provision, send ``lines``, consume and land them, dead-letter what could not be sent, verify."""
    if not lines:
        raise LabError("nothing to send: the input had no records")
    batch_prefix(adapter.silo, dataset)  # a dataset name that is not a safe key part fails here, before any work
    size = batch_size or adapter.default_batch_size
    if not 1 <= size <= adapter.max_batch_size:
        raise LabError(f"--batch-size must be between 1 and {adapter.max_batch_size} on {adapter.silo}")
    summary = IngestSummary(silo=adapter.silo, dataset=dataset)
    with summary.timed("provision"):
        adapter.provision()
        if do_reset:
            adapter.reset(dataset)
    trust = trust or TrustStore.from_dir()
    lander = adapter.lander(dataset, trust)
    produced, consumed = produce_and_consume(adapter, lines, lander, summary, size, show_progress, cpu)
    lander.reject(produced.rejected)
    kms_calls_ingest = adapter.kms_calls()
    with summary.timed("verify"):
        result = adapter.verify(lander, dataset, trust)
    summary.record_run(produced.sent, consumed, result, kms_calls=adapter.kms_calls(),
                       rejected=len(produced.rejected), lines=len(lines))
    summary.extra.update({"kms_calls_ingest": kms_calls_ingest, "rolled_back": consumed.rolled_back,
                          **adapter.describe()})
    return summary, result
