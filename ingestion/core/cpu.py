"""CPU seconds spent by this process and by a cloud's emulators: why a throughput ratio stops where it does.

The silo benchmarks compare wall-clock rates, which on a small shared machine swing
with other load. CPU seconds swing far less, and they bound what any scheduling
can achieve: the secure path cannot finish faster than its CPU work spread over
every core. :func:`ceiling_ratio` is that bound, the best secure/bare ratio an idle
machine with this many cores allows for the CPU each path was measured to need — if
it is under a target, no amount of overlap or parallelism reaches the target here;
only less work per record (ours or the emulators') does.

Linux only (``/proc``); elsewhere every figure is ``None``. Emulators are found
through ``lab.localcloud.status()`` (its recorded pids), with all their
descendants (e.g. the Java process behind the Pub/Sub emulator's launcher).
"""
from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # fields after "(comm)": state is [0], ppid [1], utime [11], stime [12]


def process_tree(roots: Iterable[int]) -> set[int]:
    """The given pids and every descendant of theirs that is alive now."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir() if PROC.is_dir() else []:
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    tree = {pid for pid in roots if pid in parents}
    grew = True
    while grew:
        new = {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}
        tree |= new
        grew = bool(new)
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by these processes (all their threads)."""
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def emulator_pids(cloud: str) -> set[int]:
    """Processes of the running local emulators of one cloud (with their descendants)."""
    from lab.localcloud import status

    roots = {int(row["pid"]) for row in status() if row["cloud"] == cloud and row["pid"]}  # type: ignore[call-overload]
    return process_tree(roots)


@dataclass
class CpuSpent:
    """CPU seconds one timed block used: this process, the emulators; and its wall time."""

    own_s: float
    emulators_s: float
    wall_s: float

    @property
    def total_s(self) -> float:
        return self.own_s + self.emulators_s

    def per_record_us(self, records: int) -> dict[str, float]:
        return {"own": round(self.own_s / records * 1e6, 1), "emulators": round(self.emulators_s / records * 1e6, 1),
                "total": round(self.total_s / records * 1e6, 1)}


class CpuMeter:
    """``with CpuMeter(cloud) as m: ...`` then ``m.spent``: CPU of this process and the cloud's emulators."""

    def __init__(self, cloud: str) -> None:
        self.pids = emulator_pids(cloud) if PROC.is_dir() else set()
        self.spent: CpuSpent | None = None

    def __enter__(self) -> CpuMeter:
        self._own, self._emu, self._wall = time.process_time(), cpu_seconds(self.pids), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.spent = CpuSpent(time.process_time() - self._own, cpu_seconds(self.pids) - self._emu,
                              time.perf_counter() - self._wall)


def ceiling_ratio(bare: CpuSpent, secure: CpuSpent, cores: int | None = None) -> float:
    """Best secure/bare ratio an idle machine with ``cores`` cores allows for this CPU work.

    The bare path is one synchronous loop (client, then emulator, in turn), so on an idle
    machine its wall time is about its CPU time; the secure path cannot take less than its
    CPU time spread perfectly over every core. Both are CPU seconds, so the figure holds
    steady under other load, where wall-clock ratios swing."""
    cores = cores or os.cpu_count() or 1
    return round(bare.total_s / max(secure.total_s / cores, 1e-9), 3)


def cpu_figures(bare: CpuSpent, secure: CpuSpent, records: int) -> dict[str, object]:
    """The figures a silo benchmark adds (per record, microseconds; and the ceiling)."""
    if not PROC.is_dir():
        return {"cpu_us_per_record": None, "ceiling_ratio": None}
    return {
        "cpu_us_per_record": {"bare": bare.per_record_us(records), "secure": secure.per_record_us(records)},
        "cores": os.cpu_count(),
        "ceiling_ratio": ceiling_ratio(bare, secure),
    }



def _best_us(fn: Callable[[], object], records: int, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return round(min(runs) / records * 1e6, 1)


def validation_costs(lines: Sequence[bytes], repeats: int = 3) -> dict[str, float]:
    """Microseconds per record, best of ``repeats``, in this process: the whole validation
    (parse + canonical JSON + signature + dedupe) and the signature check alone."""
    from nacl.signing import VerifyKey

    from ingestion.core.validate import Validator
    from ingestion.records import TrustStore, parse_record

    trust = TrustStore.from_dir()
    keys = trust.raw_keys()
    records = [parse_record(line) for line in lines]
    signed = [(VerifyKey(keys[r.producer]), r.signing_bytes(), base64.b64decode(r.signature)) for r in records]
    return {
        "validate_us_per_record": _best_us(
            lambda: Validator(trust).check_all((line, "") for line in lines), len(lines), repeats),
        "verify_us_per_record": _best_us(
            lambda: [key.verify(msg, sig) for key, msg, sig in signed], len(lines), repeats),
    }


#: Records timed by validation_costs in a benchmark (best of 3 passes over them)
VALIDATION_SAMPLE = 500


def why_figures(lines: Sequence[bytes], bare: CpuMeter, secure: CpuMeter) -> dict[str, object]:
    """What explains a silo's ratio: CPU per record of each path (ours, the emulators'), the
    ceiling that CPU allows on this machine, and validation's own cost per record."""
    if bare.spent is None or secure.spent is None:
        raise RuntimeError("both meters must have timed a block")
    return {"bare_us_per_record": round(bare.spent.wall_s / len(lines) * 1e6, 1),
            **cpu_figures(bare.spent, secure.spent, len(lines)), **validation_costs(lines[:VALIDATION_SAMPLE])}
