"""The cost of security in one silo: the secure pipeline against the same pipeline with security off.

Each leg is one silo's own ``SiloAdapter`` on the same emulators with the same records:

* *secure*, as shipped (contract, Ed25519, dedupe, envelope, SSE/CMEK where the silo has
  it, checkpoint of accepted ids);
* *plain* (``secure=False``, ``ingestion.core.plain``): a JSON parse, raw lines to a store
  and stream without SSE/CMEK, positions-only checkpoint;
* *floor*: the plain leg with the floor's work (``core/floor.py``: one orjson parse and one
  libsodium Ed25519 verify of bytes signed beforehand) added to each record of its step —
  what a consumer that checks signatures and nothing else would pay, in this pipeline.

Each round runs the three in turn (the order rotates), each after an untimed reset; what
is timed is ``produce_and_consume``, from the first send until the last record has landed.
Figures are medians over the rounds:

* ``secure_vs_plain_ratio``: secure records/s ÷ plain records/s;
* ``overhead_vs_floor``: our security CPU per record in floors, (secure − plain) ÷
  (floor − plain), each the consumer step's CPU per record (``BatchLander.step_cpu_s``:
  screen, admit, land, checkpoint, on whichever thread runs them) in the same round. The
  floor is paid where our security is: beside the same SDK threads, which slow every
  CPU-bound step of this process (on Azure the same verify costs 60–78 µs in the pipeline
  and 44–46 in a tight loop). Not the whole process's CPU: the SDKs' receive loops poll in
  their own threads and burn CPU in proportion to wall time, not records; that figure is
  kept beside, as ``process_cpu_us_per_record``, and is no measure of security;
* ``overhead_vs_idle_floor``: the stricter yardstick, the floor timed idle in a tight loop
  (``Floor.measure``, best of 3) just before and after every leg, each leg's step divided by
  the mean of the two (this machine's speed drifts: the idle floor measured 44.7–79.4 µs on
  one day), secure's figure minus plain's;
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

from ingestion.core.cli import BENCH_ROUNDS
from ingestion.core.cpu import CpuMeter
from ingestion.core.floor import Floor
from ingestion.core.plain import PlainLander
from ingestion.core.run import SiloAdapter, produce_and_consume
from ingestion.core.summary import IngestSummary
from ingestion.records import TrustStore
from lab.cli import LabError

#: each leg lands under its own dataset name (on Azure all share one container)
DATASETS = {"secure": "bench", "plain": "benchplain", "floor": "benchfloor"}
LEGS = tuple(DATASETS)
#: records of the untimed warm-up leg (each path once)
WARM_UP = 50


def _leg(adapter: SiloAdapter, lines: Sequence[bytes], trust: TrustStore, dataset: str,
         per_record: Callable[[bytes], object] | None = None) -> tuple[float, float, Any]:
    """(wall seconds, process CPU seconds, lander) of one timed produce + consume, after an untimed
    reset; ``per_record``: the floor leg's work per record (on a plain adapter's lander)."""
    adapter.reset(dataset)
    lander = adapter.lander(dataset, trust)
    if per_record is not None:
        assert isinstance(lander, PlainLander), "the floor leg runs on a plain adapter"
        lander.per_record = per_record
    summary = IngestSummary(adapter.silo, dataset)
    meter = CpuMeter(adapter.silo)
    produced, consumed = produce_and_consume(adapter, lines, lander, summary, adapter.default_batch_size, cpu=meter)
    if produced.sent != len(lines) or consumed.landed != len(lines):
        raise LabError(f"{adapter.silo} bench: sent {produced.sent}, landed {consumed.landed} of {len(lines)}")
    assert meter.spent is not None
    return summary.timings["produce_consume_s"], meter.spent.own_s, lander


def _median(values: Sequence[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


def compare(make: Callable[[bool], SiloAdapter], lines: Sequence[bytes], rounds: int = BENCH_ROUNDS) -> dict[str, Any]:
    """Secure vs plain (and the floor leg) on one silo (its local cloud must be up); the figures above."""
    secure, plain = make(True), make(False)
    for adapter in (secure, plain):
        adapter.provision()
    trust = TrustStore.from_dir()
    floor = Floor(lines)
    legs: dict[str, tuple[SiloAdapter, Callable[[bytes], object] | None]] = {
        "secure": (secure, None), "plain": (plain, None), "floor": (plain, floor.work)}
    kms_before = secure.kms_calls()  # the warm-up fetches the data key: it counts
    for name, (adapter, per_record) in legs.items():  # warm each path once (connections, first BigQuery insert, ...)
        _leg(adapter, lines[:WARM_UP], trust, DATASETS[name], per_record)
    wall: dict[str, list[float]] = {leg: [] for leg in LEGS}
    cpu: dict[str, list[float]] = {leg: [] for leg in LEGS}  # the whole process
    step: dict[str, list[float]] = {leg: [] for leg in LEGS}  # the consumer step, µs per record
    idle: dict[str, list[float]] = {leg: [] for leg in LEGS}  # the idle floor around each leg, µs per record
    kms_calls = 0
    n = len(lines)
    for r in range(rounds):
        before = floor.measure()
        for name in LEGS[r % 3:] + LEGS[:r % 3]:  # the order rotates
            print(f"bench {secure.silo}: round {r + 1}/{rounds} {name}", file=sys.stderr, flush=True)
            adapter, per_record = legs[name]
            w, c, lander = _leg(adapter, lines, trust, DATASETS[name], per_record)
            after = floor.measure()
            idle[name].append((before + after) / 2)
            before = after
            wall[name].append(w)
            cpu[name].append(c)
            step[name].append(lander.step_cpu_s / n * 1e6)
            if name == "secure" and r == rounds - 1:  # the last secure landing is verified, untimed
                kms_calls = secure.kms_calls() - kms_before
                check = secure.verify(lander, DATASETS[name], trust)
                if not check.verified or check.records != n:
                    raise LabError(f"{secure.silo} bench: the secure landing did not verify: {check.errors[:3]}")
    security_us = [s - p for s, p in zip(step["secure"], step["plain"])]
    floor_us = [f - p for f, p in zip(step["floor"], step["plain"])]
    if min(floor_us) <= 0:  # no yardstick: too few records for a verify to show above the noise
        raise LabError(f"{secure.silo} bench: the floor leg cost no more than plain ({floor_us}); use more records")
    overheads = [s / f for s, f in zip(security_us, floor_us)]
    # in idle floors, each leg in the floor timed around it: a slower minute slows both alike
    idle_overheads = [s / fs - p / fp
                      for s, p, fs, fp in zip(step["secure"], step["plain"], idle["secure"], idle["plain"])]
    ratios = [p / s for s, p in zip(wall["secure"], wall["plain"])]
    return {
        "records": n,
        "rounds": rounds,
        "secure_vs_plain_ratio": _median(ratios),
        "secure_vs_plain_ratios": [round(x, 3) for x in ratios],
        "overhead_vs_floor": _median(overheads),
        "overheads_vs_floor": [round(x, 3) for x in overheads],
        "security_cpu_us_per_record": _median(security_us, 1),
        "floor_us_per_record": _median(floor_us, 1),
        "floors_us_per_record": [round(x, 1) for x in floor_us],
        "overhead_vs_idle_floor": _median(idle_overheads),
        "overheads_vs_idle_floor": [round(x, 3) for x in idle_overheads],
        "idle_floor_us_per_record": _median(idle["secure"] + idle["plain"], 1),
        "idle_floors_us_per_record": {k: [round(x, 1) for x in v] for k, v in idle.items()},
        "secure_records_per_s": round(n / statistics.median(wall["secure"]), 1),
        "plain_records_per_s": round(n / statistics.median(wall["plain"]), 1),
        "step_cpu_us_per_record": {k: _median(v, 1) for k, v in step.items()},
        "process_cpu_us_per_record": {k: round(statistics.median(v) / n * 1e6, 1) for k, v in cpu.items()},
        "kms_calls": kms_calls,
        "kms_calls_per_10k": round(kms_calls * 10_000 / (n * rounds + min(n, WARM_UP)), 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "verified": check.verified,
    }
