"""Federated-learning benchmarks: prints figures measured now (last line: JSON).

  timing   seconds per round: plain FedAvg vs SecAgg+ vs SecAgg+ + DP (same run of this script)
  privacy  final accuracy with no DP and at client-level epsilon <= 8, 4, 1 (delta from config)
  record   the same with record-level DP (Opacus DP-SGD in every client)
  robust   accuracy under a sign-flip attacker: FedAvg, SecAgg+, and each robust method

Each configuration is a full simulation (~40 s of Ray start-up each on 2 cores).
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from lab.cli import parser, run_main
from securefl.bench import SECTIONS, run_section
from securefl.config import load_config, parse_overrides


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("bench.py", __doc__ or "")
    p.add_argument("sections", nargs="*", choices=SECTIONS, default=list(SECTIONS),
                   help="which benchmarks (default: all)")
    p.add_argument("--config", default="", help="run-config overrides applied to every run")
    args = p.parse_args(argv)
    base = parse_overrides(args.config)
    base.setdefault("out-dir", "reports/fl-bench")
    load_config(base)  # a bad override stops here
    rows = [row for section in args.sections for row in run_section(section, base)]
    for row in rows:
        eps = "-" if row["epsilon"] is None else f"{row['epsilon']:.2f}"
        spr = row["s_per_round_after_first"]
        print(f"{row['section']:8} {row['run']:38} acc={row['final_accuracy']:.3f} eps={eps:>8} "
              f"level={row['privacy_level']:6} s/round={spr:.2f} ok={row['ok']} flagged={row['flagged_clients']}")
    print(json.dumps(rows, default=float))
    return 0


if __name__ == "__main__":
    run_main(main)
