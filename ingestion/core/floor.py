"""The floor of a secure consumer: one libsodium Ed25519 verify plus one fast JSON parse per record.

It is what any consumer that checks signatures must spend; ``core/bench.py`` divides our
security CPU per record by it. It is counted two ways, both in thread CPU as the step is:

* in the pipeline (:meth:`Floor.work`): the benchmark's *floor leg* is the plain leg with the
  floor's work added to each record of its consumer step, so the floor is paid where our
  security is paid, beside the same SDK threads, and is that leg's step minus plain's;
* idle (:meth:`Floor.measure`): a tight loop between legs, best of a few passes — the
  cheapest the check can be on this machine, a stricter yardstick kept beside the first.

The signed bytes are prepared beforehand: encoding them is part of our overhead, not the floor.
"""
from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence

import orjson
from nacl.bindings import crypto_sign_open

#: records the idle floor is timed on (best of a few passes)
SAMPLE = 500


def _best_us(fn: Callable[[], object], records: int, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        runs.append(time.thread_time() - start)
    return min(runs) / records * 1e6


class Floor:
    """The floor on the benchmark's signed records, prepared once: done per record inside a
    consumer step (:meth:`work`), or timed idle on a sample (:meth:`measure`)."""

    def __init__(self, lines: Sequence[bytes], sample: int = SAMPLE) -> None:
        from ingestion.records import TrustStore, parse_record

        keys = TrustStore.from_dir().raw_keys()
        records = [parse_record(line) for line in lines]
        #: record id -> (producer's raw key, signed bytes, signature)
        self.by_id = {r.id: (keys[r.producer], r.signing_bytes(), base64.b64decode(r.signature)) for r in records}
        self.lines = list(lines[:sample])
        self.signed = [self.by_id[r.id] for r in records[:sample]]

    def work(self, raw: bytes) -> None:
        """The floor's work on one raw record, as a consumer step does it: parse, then verify."""
        key, signed, signature = self.by_id[orjson.loads(raw)["id"]]
        crypto_sign_open(signature + signed, key)

    def measure(self, repeats: int = 3) -> float:
        """µs per record, idle: the best of ``repeats`` passes over the verify, and over the parse."""
        n = len(self.lines)
        verify = _best_us(lambda: [crypto_sign_open(sig + msg, key) for key, msg, sig in self.signed], n, repeats)
        parse = _best_us(lambda: [orjson.loads(line) for line in self.lines], n, repeats)
        return round(verify + parse, 1)


def floor_us_per_record(lines: Sequence[bytes], repeats: int = 3) -> float:
    """:class:`Floor` measured idle once on ``lines``."""
    return Floor(lines).measure(repeats)
