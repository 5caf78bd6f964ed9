"""CPU accounting of the benchmarks: it sees child processes and counts real work."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ingestion.core import cpu
from ingestion.core.cpu import CpuMeter, CpuSpent, cpu_seconds, process_tree

pytestmark = pytest.mark.skipif(not cpu.PROC.is_dir(), reason="CPU accounting reads /proc (Linux)")

BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass\nimport sys; sys.stdin.read()"


def test_process_tree_finds_descendants_and_counts_their_cpu() -> None:
    wrapper = subprocess.Popen(  # a launcher whose child does the work, like the Pub/Sub emulator's script
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BUSY!r}])"],
        stdin=subprocess.PIPE)
    try:
        for _ in range(300):
            tree = process_tree([wrapper.pid])
            if len(tree) == 2 and cpu_seconds(tree) >= 0.15:
                break
            time.sleep(0.1)
        assert wrapper.pid in tree and len(tree) == 2  # the launcher and its child
        assert cpu_seconds(tree) >= 0.15  # the child's busy loop is counted
        assert cpu_seconds([wrapper.pid]) < cpu_seconds(tree)
    finally:
        wrapper.communicate(b"", timeout=30)
    assert process_tree([wrapper.pid]) == set()  # gone processes are simply not there
    assert cpu_seconds([wrapper.pid]) == 0.0


def test_meter_counts_this_process_and_no_emulator_when_none_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu, "emulator_pids", lambda cloud: set())
    with CpuMeter("aws") as meter:
        sum(i * i for i in range(300_000))
    assert meter.spent is not None
    assert meter.spent.own_s > 0 and meter.spent.emulators_s == 0 and meter.spent.wall_s >= meter.spent.own_s * 0.5


def test_cpu_spent_per_record() -> None:
    spent = CpuSpent(own_s=0.6, emulators_s=0.4, wall_s=1.0)
    assert spent.per_record_us(1000) == {"own": 600.0, "emulators": 400.0, "total": 1000.0}
