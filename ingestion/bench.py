"""`make bench`: the true cost of security per silo — secure pipeline vs the same pipeline with security off.

For each silo named by ``--silos`` (default all three), one child process runs
``python -m ingestion.<silo>.bench`` inside that silo's local cloud: the secure
pipeline and the same pipeline with every security control off, same emulators,
same records, the order of the legs rotating, medians over ``--rounds`` (7 by default; method
in ``ingestion/core/bench.py``). A fresh process per silo keeps one SDK's threads
out of the next one's timing (and ``-m`` from the repository root keeps this
folder's ``azure/`` from shadowing the Azure SDK).

Targets (judged below each figure):

* ``<silo>_secure_vs_plain_ratio`` >= 0.8 (secure records/s ÷ plain records/s);
* ``<silo>_overhead_vs_floor`` <= 1.5 (our security CPU per record — the consumer
  step's CPU, secure minus plain — ÷ the floor, one Ed25519 verify + one fast JSON
  parse per record, paid in the same pipeline in each round; the same overhead in the
  floor timed idle, ``<silo>_overhead_vs_idle_floor``, and the whole process's CPU are
  printed beside it);
* ``<silo>_kms_calls_per_10k`` <= 5; ``aws_envelope_vs_aesgcm_ratio`` >= 0.9.

Benchmarks on a shared machine are noisy: every silo's figures carry the 1-minute
load average they were measured under (``<silo>_load_avg_1m``). Progress goes to
stderr; the last line printed is one JSON object.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from ingestion.core.cli import BENCH_RECORDS, BENCH_ROUNDS
from lab.cli import MAX_RECORDS, LabError, console, count, parser, run_main, seed
from lab.silos import SILOS, parse_silos

ALL_SILOS = SILOS
SILO_TARGETS = {"secure_vs_plain_ratio": (">=", 0.8), "overhead_vs_floor": ("<=", 1.5),
                "kms_calls_per_10k": ("<=", 5.0)}
AWS_TARGETS = {"envelope_vs_aesgcm_ratio": (">=", 0.9)}
#: per-silo figures copied into the flat result besides the judged ones
KEYS = ("secure_vs_plain_ratios", "overheads_vs_floor", "security_cpu_us_per_record", "floor_us_per_record",
        "floors_us_per_record", "overhead_vs_idle_floor", "overheads_vs_idle_floor", "idle_floor_us_per_record",
        "idle_floors_us_per_record", "secure_records_per_s",
        "plain_records_per_s", "step_cpu_us_per_record", "process_cpu_us_per_record", "kms_calls", "load_avg_1m",
        "rounds", "records")


def silo_list(text: str) -> list[str]:
    """argparse type: a comma-separated subset of aws,azure,gcp (order kept, no repeats)."""
    return list(parse_silos(text))


def run_child(silo: str, records: int, rounds: int, seed: int) -> dict[str, Any]:
    """Run ``python -m ingestion.<silo>.bench`` and return its JSON line (its progress shows on stderr)."""
    from lab.paths import REPO_ROOT

    cmd = [sys.executable, "-m", f"ingestion.{silo}.bench", "--records", str(records), "--rounds", str(rounds),
           "--seed", str(seed), "--json"]
    done = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603 - our module
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise LabError(f"{silo} benchmark failed (exit {done.returncode}); its error is printed above")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def judge(figures: dict[str, Any], targets: dict[str, tuple[str, float]], prefix: str) -> None:
    """Print each judged figure against its target and record ``<key>_target_met``."""
    for name, (op, target) in targets.items():
        key = f"{prefix}{name}"
        value = figures[key]
        met = value >= target if op == ">=" else value <= target
        figures[f"{key}_target_met"] = met
        print(f"{key:<34} {value:>10}   target {op} {target}   {'met' if met else 'MISSED'}")


def run_silos(silos: Sequence[str], records: int, rounds: int, seed: int) -> dict[str, Any]:
    """Each silo's bench in its own process; the figures flattened as ``<silo>_<key>``."""
    figures: dict[str, Any] = {"silos": list(silos)}
    for silo in silos:
        console.print(f"[bold]bench[/] {silo}: secure vs plain, {records} records x {rounds} rounds")
        start = time.perf_counter()
        result = run_child(silo, records, rounds, seed)
        console.print(f"[bold]bench[/] {silo}: done in {time.perf_counter() - start:.0f} s")
        for key in (*SILO_TARGETS, *KEYS, *(AWS_TARGETS if silo == "aws" else ())):
            figures[f"{silo}_{key}"] = result.get(key)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ingestion/bench.py", __doc__ or "")
    p.add_argument("--records", type=count(MAX_RECORDS), default=BENCH_RECORDS,
                   help=f"records per leg and round (default {BENCH_RECORDS})")
    p.add_argument("--rounds", type=count(100), default=BENCH_ROUNDS,
                   help=f"rounds per silo, medians reported (default {BENCH_ROUNDS})")
    p.add_argument("--silos", type=silo_list, default=list(ALL_SILOS),
                   help="comma-separated silos to measure (default aws,azure,gcp)")
    p.add_argument("--seed", type=seed, default=0, help="seed of generated records (default 0)")
    args = p.parse_args(argv)
    figures = run_silos(args.silos, args.records, args.rounds, args.seed)
    for silo in args.silos:
        judge(figures, SILO_TARGETS, f"{silo}_")
        if silo == "aws":
            judge(figures, AWS_TARGETS, "aws_")
        for key in ("overhead_vs_idle_floor", "load_avg_1m"):  # beside the judged figures
            print(f"{silo + '_' + key:<34} {figures[silo + '_' + key]:>10}")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    run_main(main)
