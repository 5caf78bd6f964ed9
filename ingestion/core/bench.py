"""The cost of security in one silo: the secure pipeline against the same pipeline with security off.

Both legs are one silo's own ``SiloAdapter`` on the same emulators with the same
records: *secure* as shipped (contract, Ed25519, dedupe, envelope, SSE/CMEK where
the silo has it, checkpoint of accepted ids); *plain* (``secure=False``,
``ingestion.core.plain``): a JSON parse, raw lines to a store and stream without
SSE/CMEK, positions-only checkpoint. Each round runs both, in alternating order,
each after an untimed reset; what is timed is ``produce_and_consume`` — from the
first send until the last record has landed. Figures are medians over the rounds:

* ``secure_vs_plain_ratio``: secure records/s ÷ plain records/s;
* ``overhead_vs_floor``: our security CPU per record in floors. The floor (``core/floor.py``)
  is one libsodium Ed25519 verify plus one orjson parse per record, what any consumer that
  checks signatures pays, in thread CPU as the step is. It is timed just before and just
  after every leg, and each leg's step CPU per record is divided by the mean of the two:
  this machine's speed drifts (the floor measured 44.7–52.9 µs in five runs one morning and
  50.8–79.4 in one run later that day), and a slower minute slows a leg and its floor alike. Secure's figure minus
  plain's, median over rounds. Our security CPU is the consumer step's CPU
  (``BatchLander.step_cpu_s``: screen, admit, land, checkpoint, on whichever thread runs them),
  secure minus plain. Not the whole process's CPU: the SDKs' receive loops poll in their
  own threads and burn CPU in proportion to wall time, not records (the same plain
  Azure leg measured 186 and 310 µs/record at 2.0 and 3.1 s); that figure is kept
  beside, as ``process_cpu_us_per_record``, and is no measure of security;
* ``kms_calls_per_10k``: key-service requests of the secure legs (warm-up included)
  per 10,000 records they carried.

The secure landing of the last round is verified (untimed); the bench fails if it is not.
"""
from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ingestion.core.cpu import CpuMeter
from ingestion.core.floor import Floor
from ingestion.core.run import SiloAdapter, produce_and_consume
from ingestion.core.summary import IngestSummary
from ingestion.records import TrustStore
from lab.cli import LabError

#: each leg lands under its own dataset name (on Azure both share one container)
DATASETS = {"secure": "bench", "plain": "benchplain"}
#: records of the untimed warm-up leg (each path once)
WARM_UP = 50
#: records the floor is timed on, once per round (best of 3 passes)
FLOOR_SAMPLE = 500


def _leg(adapter: SiloAdapter, lines: Sequence[bytes], trust: TrustStore, dataset: str) -> tuple[float, float, Any]:
    """(wall seconds, process CPU seconds, lander) of one timed produce + consume, after an untimed reset."""
    adapter.reset(dataset)
    lander = adapter.lander(dataset, trust)
    summary = IngestSummary(adapter.silo, dataset)
    meter = CpuMeter(adapter.silo)
    produced, consumed = produce_and_consume(adapter, lines, lander, summary, adapter.default_batch_size, cpu=meter)
    if produced.sent != len(lines) or consumed.landed != len(lines):
        raise LabError(f"{adapter.silo} bench: sent {produced.sent}, landed {consumed.landed} of {len(lines)}")
    assert meter.spent is not None
    return summary.timings["produce_consume_s"], meter.spent.own_s, lander


def compare(make: Callable[[bool], SiloAdapter], lines: Sequence[bytes], rounds: int = 5) -> dict[str, Any]:
    """Secure vs plain on one silo (its local cloud must be up); returns the figures above."""
    legs = {"secure": make(True), "plain": make(False)}
    for adapter in legs.values():
        adapter.provision()
    trust = TrustStore.from_dir()
    kms_before = legs["secure"].kms_calls()  # the warm-up fetches the data key: it counts
    for name, adapter in legs.items():  # warm both paths once (connections, first BigQuery insert, ...)
        _leg(adapter, lines[:WARM_UP], trust, DATASETS[name])
    wall: dict[str, list[float]] = {"secure": [], "plain": []}
    cpu: dict[str, list[float]] = {"secure": [], "plain": []}  # the whole process
    step: dict[str, list[float]] = {"secure": [], "plain": []}  # the consumer step (BatchLander.step_cpu_s)
    kms_calls = 0
    floor = Floor(lines[:FLOOR_SAMPLE])
    floors: dict[str, list[float]] = {"secure": [], "plain": []}  # µs per record while each leg ran
    for r in range(rounds):
        before = floor.measure()
        for name in ("secure", "plain") if r % 2 == 0 else ("plain", "secure"):
            print(f"bench {legs[name].silo}: round {r + 1}/{rounds} {name}", file=sys.stderr, flush=True)
            w, c, lander = _leg(legs[name], lines, trust, DATASETS[name])
            after = floor.measure()
            floors[name].append((before + after) / 2)
            before = after
            wall[name].append(w)
            cpu[name].append(c)
            step[name].append(lander.step_cpu_s)
            if name == "secure" and r == rounds - 1:  # the last secure landing is verified, untimed
                kms_calls = legs["secure"].kms_calls() - kms_before
                check = legs["secure"].verify(lander, DATASETS[name], trust)
                if not check.verified or check.records != len(lines):
                    raise LabError(f"{legs['secure'].silo} bench: the secure landing did not verify: "
                                   f"{check.errors[:3]}")
    n = len(lines)
    security_us = [(s - p) / n * 1e6 for s, p in zip(step["secure"], step["plain"])]
    # each leg in floors: a minute in which the machine runs slower slows its step and its floor alike
    overheads = [s / n * 1e6 / fs - p / n * 1e6 / fp
                 for s, p, fs, fp in zip(step["secure"], step["plain"], floors["secure"], floors["plain"])]
    ratios = [p / s for s, p in zip(wall["secure"], wall["plain"])]
    return {
        "records": n,
        "rounds": rounds,
        "secure_vs_plain_ratio": round(statistics.median(ratios), 3),
        "secure_vs_plain_ratios": [round(x, 3) for x in ratios],
        "overhead_vs_floor": round(statistics.median(overheads), 3),
        "overheads_vs_floor": [round(x, 3) for x in overheads],
        "security_cpu_us_per_record": round(statistics.median(security_us), 1),
        "floor_us_per_record": round(statistics.median(floors["secure"] + floors["plain"]), 1),
        "floors_us_per_record": {k: [round(x, 1) for x in v] for k, v in floors.items()},
        "secure_records_per_s": round(n / statistics.median(wall["secure"]), 1),
        "plain_records_per_s": round(n / statistics.median(wall["plain"]), 1),
        "step_cpu_us_per_record": {k: round(statistics.median(v) / n * 1e6, 1) for k, v in step.items()},
        "process_cpu_us_per_record": {k: round(statistics.median(v) / n * 1e6, 1) for k, v in cpu.items()},
        "kms_calls": kms_calls,
        "kms_calls_per_10k": round(kms_calls * 10_000 / (n * rounds + min(n, WARM_UP)), 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "verified": check.verified,
    }
