"""The floor of a secure consumer: one libsodium Ed25519 verify plus one fast JSON parse per record.

It is what any consumer that checks signatures must spend; ``core/bench.py`` divides our
security CPU per record by it. It is timed in thread CPU seconds, as the consumer step is,
on the benchmark's own signed records and trusted keys, best of a few passes.
"""
from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence

import orjson
from nacl.bindings import crypto_sign_open


def _best_us(fn: Callable[[], object], records: int, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        runs.append(time.thread_time() - start)
    return min(runs) / records * 1e6


class Floor:
    """The floor on a sample of signed records, prepared once and timed as often as asked (a
    benchmark times it in every round, next to the legs it is compared with)."""

    def __init__(self, lines: Sequence[bytes]) -> None:
        from ingestion.records import TrustStore, parse_record

        keys = TrustStore.from_dir().raw_keys()
        records = [parse_record(line) for line in lines]
        self.lines = list(lines)
        self.signed = [(keys[r.producer], r.signing_bytes(), base64.b64decode(r.signature)) for r in records]

    def measure(self, repeats: int = 3) -> float:
        """µs per record: the best of ``repeats`` passes over the verify, and over the parse."""
        n = len(self.lines)
        verify = _best_us(lambda: [crypto_sign_open(sig + msg, key) for key, msg, sig in self.signed], n, repeats)
        parse = _best_us(lambda: [orjson.loads(line) for line in self.lines], n, repeats)
        return round(verify + parse, 1)


def floor_us_per_record(lines: Sequence[bytes], repeats: int = 3) -> float:
    """:class:`Floor` measured once on ``lines``."""
    return Floor(lines).measure(repeats)
