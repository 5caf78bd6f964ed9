"""Checkpoint after landing; a failure rolls back; a replay lands the same objects."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from encryption.providers.local import LocalKeyProvider
from ingestion.core import landing
from ingestion.core.checkpoint import Checkpoint, CheckpointStore, checkpoint_key
from ingestion.core.pipeline import BatchLander
from lab.storage import LocalDirStore
from ingestion.core.verify import verify_landing
from ingestion.records import Record, TrustStore


class CrashOnce(CheckpointStore):
    """Fault injection: the process 'dies' after landing, before the checkpoint is saved."""

    crashed = False

    def save(self, checkpoint: Checkpoint) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("simulated crash before checkpoint")
        super().save(checkpoint)


def items(records: list[Record], start: int) -> list[tuple[bytes, str]]:
    return [(r.to_json().encode(), f"s0:{start + i}") for i, r in enumerate(records)]


def test_checkpoint_round_trip(store: LocalDirStore) -> None:
    cps = CheckpointStore(store, checkpoint_key("aws", "stream"))
    assert cps.load() == Checkpoint()
    cps.save(Checkpoint({"s0": "9"}, {"a", "b"}, 2, 1))
    assert cps.load() == Checkpoint({"s0": "9"}, {"a", "b"}, 2, 1)


def test_crash_between_landing_and_checkpoint_replays_exactly(
    store: LocalDirStore, provider: LocalKeyProvider, records: list[Record], trust: TrustStore
) -> None:
    key = checkpoint_key("aws", "stream")
    first, second = records[:10], records[10:20]
    lander = BatchLander(store, provider, "aws", "digits", trust, CheckpointStore(store, key))
    lander.land("s0-0", items(first, 0), {"s0": "9"})
    crashing = BatchLander(store, provider, "aws", "digits", trust, CrashOnce(store, key))
    batch = items(second + first[:2], 10)  # two re-sent records among new ones
    with pytest.raises(RuntimeError):
        crashing.land("s0-10", batch, {"s0": "21"})
    assert crashing.validator.seen_ids == {r.id for r in first}  # rolled back to the durable state
    # restart: a new process loads the old checkpoint and replays the same position
    restarted = BatchLander(store, provider, "aws", "digits", trust, CheckpointStore(store, key))
    assert restarted.position("s0") == "9"
    result = restarted.land("s0-10", batch, {"s0": "21"})
    assert (result.landed, result.duplicates) == (10, 2)
    check = verify_landing(store, provider, "aws", "digits", trust,
                           expected_ids=restarted.checkpoint.accepted_ids,
                           expected_dead_letters=restarted.checkpoint.dead_lettered)
    assert check.verified, check.errors
    assert check.records == 20 and check.batches == 2 and check.dead_letters == 2
    assert len(list(store.list(landing.batch_prefix("aws", "digits")))) == 2


def test_step_cpu_counts_every_land_call_even_a_failing_one(
    store: LocalDirStore, provider: LocalKeyProvider, records: list[Record], trust: TrustStore
) -> None:
    key = checkpoint_key("aws", "stream")
    lander = BatchLander(store, provider, "aws", "digits", trust, CrashOnce(store, key))
    with pytest.raises(RuntimeError):
        lander.land("s0-1", items(records, 1), {"s0": "1"})
    after_crash = lander.step_cpu_s
    assert after_crash > 0  # the work before the crash was spent, and is counted
    lander.land("s0-1", items(records, 1), {"s0": "1"})
    assert lander.step_cpu_s > after_crash


def test_a_batch_screened_in_another_thread_lands_as_the_raw_one_would(
    store: LocalDirStore, provider: LocalKeyProvider, records: list[Record], trust: TrustStore
) -> None:
    key = checkpoint_key("aws", "stream")
    lander = BatchLander(store, provider, "aws", "digits", trust, CheckpointStore(store, key))
    lander.land("s0-0", items(records[:5], 0), {"s0": "4"})
    batch = items(records[3:12], 5)  # two ids already accepted, seven new
    with ThreadPoolExecutor(1) as pool:  # as a consumer's prefetch thread does
        screened = pool.submit(lander.screen, batch).result()
    assert lander.validator.seen_ids == {r.id for r in records[:5]}  # screening admits nothing
    cpu_before_landing = lander.step_cpu_s
    result = lander.land("s0-5", screened, {"s0": "13"})
    assert (result.landed, result.duplicates) == (7, 2)
    assert lander.checkpoint.accepted_ids == {r.id for r in records[:12]}
    assert cpu_before_landing > 0 and lander.step_cpu_s > cpu_before_landing  # both threads' CPU counted


def test_a_tampered_record_screened_ahead_is_dead_lettered_not_landed(
    store: LocalDirStore, provider: LocalKeyProvider, records: list[Record], trust: TrustStore
) -> None:
    lander = BatchLander(store, provider, "aws", "digits", trust, CheckpointStore(store, checkpoint_key("aws", "s")))
    batch = items(records[:3], 0)
    batch[1] = (batch[1][0].replace(b'"label":', b'"label":1', 1), batch[1][1])  # a changed label, same signature
    result = lander.land("s0-0", lander.screen(batch), {"s0": "2"})
    assert (result.landed, result.dead_lettered, result.reasons) == (2, 1, ("signature",))
