"""How an Event Hubs partition's drain ends, with a stand-in for the SDK client (no emulator needed)."""
from __future__ import annotations

from typing import Any

import pytest

from ingestion.azure.consumer import EventHubConsumer
from lab.cli import LabError


class _StoppingClient:
    """A client whose receive loop returns at once, as when its thread dies before the target."""

    closed = 0

    def __enter__(self) -> _StoppingClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get_partition_ids(self) -> list[str]:
        return ["0"]

    def get_partition_properties(self, _pid: str) -> dict[str, Any]:
        return {"last_enqueued_sequence_number": 5}

    def receive_batch(self, **kwargs: Any) -> None:
        kwargs["on_partition_initialize"](None)

    def close(self) -> None:
        type(self).closed += 1


class _Lander:
    def position(self, _partition: str) -> str | None:
        return None


def test_a_receiver_that_stops_short_of_its_target_fails_the_run_and_is_closed() -> None:
    consumer = EventHubConsumer(_StoppingClient, _Lander(), max_wait_s=0.05)  # type: ignore[arg-type]
    with pytest.raises(LabError, match="partition 0: the receiver stopped before reaching sequence number 5"):
        consumer.run()
    assert _StoppingClient.closed == 2  # the probe and the partition's client
    assert consumer.ready.is_set()  # a producer waiting for the consumer is not left hanging
