"""securefl.grid: a failed simulation attempt's server thread must stop waiting (or the process hangs at exit)."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from securefl.grid import AbandonableGrid, SimulationAbandoned


class Inbox:
    """The two calls of Flower's grid the wait uses: push returns ids, pull returns replies so far."""

    pull_interval = 0.01

    def __init__(self) -> None:
        self.replies: list[SimpleNamespace] = []
        self.nodes = [1, 2]

    def push_messages(self, messages: object) -> list[str]:
        return ["m1", "m2"]

    def pull_messages(self, ids: set[str]) -> list[SimpleNamespace]:
        out = [r for r in self.replies if r.metadata.reply_to_message_id in ids]
        self.replies = [r for r in self.replies if r not in out]
        return out

    def get_node_ids(self) -> list[int]:
        return self.nodes


def reply(to: str) -> SimpleNamespace:
    return SimpleNamespace(metadata=SimpleNamespace(reply_to_message_id=to))


def test_returns_every_reply_and_delegates_the_rest() -> None:
    inbox = Inbox()
    inbox.replies = [reply("m1"), reply("m2")]
    grid = AbandonableGrid(inbox, threading.Event())
    assert [r.metadata.reply_to_message_id for r in grid.send_and_receive([])] == ["m1", "m2"]
    assert grid.get_node_ids() == [1, 2]


def test_a_timeout_returns_what_arrived() -> None:
    inbox = Inbox()
    inbox.replies = [reply("m1")]
    start = time.monotonic()
    got = AbandonableGrid(inbox, threading.Event()).send_and_receive([], timeout=0.2)
    assert [r.metadata.reply_to_message_id for r in got] == ["m1"]
    assert time.monotonic() - start < 2


def test_abandoning_ends_a_wait_that_would_last_forever() -> None:
    abandon = threading.Event()
    errors: list[BaseException] = []

    def server_thread() -> None:
        try:
            AbandonableGrid(Inbox(), abandon).send_and_receive([])  # no reply ever comes
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    thread = threading.Thread(target=server_thread)
    thread.start()
    time.sleep(0.1)
    assert thread.is_alive()
    abandon.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], SimulationAbandoned)

