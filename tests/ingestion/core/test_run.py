"""The consumer's pause after an empty poll: kept while the producer sends, cut short when it finishes."""
from __future__ import annotations

import time

from ingestion.core.run import idle_wait


def test_idle_wait_ends_as_soon_as_the_followed_producer_finishes() -> None:
    answers = iter([True, True, False])
    start = time.monotonic()
    idle_wait(30.0, lambda: next(answers, False))
    assert time.monotonic() - start < 5.0  # not the 30 s poll interval


def test_idle_wait_keeps_the_poll_interval_while_the_producer_sends_or_without_one() -> None:
    for follow in (lambda: True, None):
        start = time.monotonic()
        idle_wait(0.05, follow)
        assert time.monotonic() - start >= 0.05
