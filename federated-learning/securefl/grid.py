"""A Grid whose waits can be abandoned, so a failed simulation attempt leaves no thread behind.

Flower's simulation runs the ServerApp in a non-daemon thread, and the default fit
workflow waits for client replies with ``send_and_receive(timeout=None)``: forever.
When the simulation runtime (Ray) fails to start, ``run.run_simulation`` retries once,
but the first attempt's server thread keeps waiting for replies that can never come,
and the Python process then hangs at exit (seen in CI: the suite passed, pytest never
returned). This wrapper delegates everything to Flower's grid and only replaces that
wait with one that also stops when ``abandon`` is set. No Flower API offers this.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from flwr.app import Message

POLL_S = 0.1


class SimulationAbandoned(RuntimeError):
    """The run that owned this server thread gave up on it."""


class AbandonableGrid:
    """Flower's Grid, with a ``send_and_receive`` that returns early when ``abandon`` is set."""

    def __init__(self, inner: Any, abandon: threading.Event) -> None:
        self._inner = inner
        self._abandon = abandon

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> list[Message]:
        """Push, then pull replies until all arrived, the timeout passed, or the run was abandoned."""
        pending = set(self._inner.push_messages(messages))
        deadline = None if timeout is None else time.monotonic() + timeout
        replies: list[Message] = []
        while pending:
            if self._abandon.is_set():
                raise SimulationAbandoned("the simulation attempt was abandoned; this server thread stops")
            got = list(self._inner.pull_messages(pending))
            replies.extend(got)
            pending.difference_update(m.metadata.reply_to_message_id for m in got)
            if not pending or (deadline is not None and time.monotonic() >= deadline):
                break
            self._abandon.wait(getattr(self._inner, "pull_interval", POLL_S))
        return replies
