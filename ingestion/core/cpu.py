"""CPU seconds spent by this process and by a cloud's emulators.

The silo benchmarks compare wall-clock rates, which on a small shared machine swing
with other load. CPU seconds swing far less: ``ingestion/core/bench.py`` reports our
security CPU per record (secure minus plain) against the floor (``core/floor.py``),
the least any consumer that checks signatures must spend.

Linux only (``/proc``); elsewhere every figure is ``None``. Emulators are found
through ``lab.localcloud.status()`` (its recorded pids), with all their
descendants (e.g. the Java process behind the Pub/Sub emulator's launcher).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
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
