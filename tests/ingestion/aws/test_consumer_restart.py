"""A consumer stopped or crashed mid-stream resumes from its checkpoint: no loss, no duplicate."""
from __future__ import annotations

import pytest

from ingestion import samples
from ingestion.aws.consumer import KinesisConsumer
from ingestion.aws.ingest import Silo
from ingestion.aws.producer import KinesisProducer
from ingestion.core.checkpoint import Checkpoint
from ingestion.core.pipeline import BatchLander
from ingestion.core.verify import verify_landing
from ingestion.records import TrustStore


class CrashAfterLanding(BatchLander):
    """Fault injection: the process dies after a batch has landed, before its checkpoint is saved."""

    def __init__(self, *args, crash_on: int, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.crash_on = crash_on
        real_save = self.checkpoints.save

        def save(checkpoint: Checkpoint) -> None:
            self.calls += 1
            if self.calls == self.crash_on:
                raise RuntimeError("simulated crash between landing and checkpoint")
            real_save(checkpoint)

        self.checkpoints.save = save  # type: ignore[method-assign]


@pytest.fixture
def sent(silo: Silo) -> set[str]:
    records = samples.generate_records("aws", 90, seed=8)
    lines = [r.to_json().encode() for r in records] + [records[3].to_json().encode()]  # one resend
    KinesisProducer(silo.kinesis, silo.resources.stream_name).put_all(lines)
    return {r.id for r in records}


def check(silo: Silo, trust: TrustStore, expected: set[str]) -> None:
    lander = silo.lander("digits", trust)
    result = verify_landing(silo.store, silo.provider, "aws", "digits", trust,
                            expected_ids=expected, expected_dead_letters=lander.checkpoint.dead_lettered)
    assert result.verified, result.errors
    assert result.records == len(expected) and result.dead_letters == 1


def test_stop_and_resume(silo: Silo, sent: set[str]) -> None:
    trust = TrustStore.from_dir()
    stream = silo.resources.stream_name
    first = KinesisConsumer(silo.kinesis, stream, silo.lander("digits", trust), batch_limit=20).run(max_batches=2)
    assert first.read == 40
    rest = KinesisConsumer(silo.kinesis, stream, silo.lander("digits", trust), batch_limit=20).run()
    assert first.read + rest.read == 91
    assert first.landed + rest.landed == 90 and first.duplicates + rest.duplicates == 1
    check(silo, trust, sent)


def test_crash_between_landing_and_checkpoint(silo: Silo, sent: set[str]) -> None:
    trust = TrustStore.from_dir()
    stream = silo.resources.stream_name
    crashing = CrashAfterLanding(silo.store, silo.provider, "aws", "digits", trust, silo.checkpoints(), crash_on=3)
    with pytest.raises(RuntimeError):
        KinesisConsumer(silo.kinesis, stream, crashing, batch_limit=20).run()
    assert crashing.checkpoint.batches == 2  # two batches durable; the third landed but was not checkpointed
    resumed = KinesisConsumer(silo.kinesis, stream, silo.lander("digits", trust), batch_limit=20).run()
    assert resumed.read == 91 - 40  # re-read from the checkpoint, including the uncheckpointed batch
    check(silo, trust, sent)
