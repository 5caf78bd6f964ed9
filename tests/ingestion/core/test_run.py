"""The shared run's helpers: the pause after an empty poll (kept while the producer sends, cut short when it
finishes) and the heap frozen for the length of a run."""
from __future__ import annotations

import gc
import time

import pytest

from ingestion.core.run import idle_wait, long_lived_frozen


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


def test_a_run_freezes_what_existed_before_it_and_releases_it_after() -> None:
    before = gc.get_freeze_count()
    with long_lived_frozen():
        assert gc.get_freeze_count() > before  # a full collection now skips them
        during = gc.get_freeze_count()
    assert gc.get_freeze_count() == 0 < during  # collectable again once the run is over


def test_the_heap_is_released_even_when_the_run_fails() -> None:
    with pytest.raises(RuntimeError), long_lived_frozen():
        raise RuntimeError("the consumer failed")
    assert gc.get_freeze_count() == 0
