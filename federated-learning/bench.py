"""Federated-learning benchmarks: prints figures measured now (last line: JSON).

  timing   seconds per round: plain FedAvg vs SecAgg+ vs SecAgg+ + DP-SGD (same run of this script)
  privacy  final accuracy with no DP and at client-level epsilon <= 8, 4, 1 (delta from config)
  record   no DP vs record-level epsilon <= 8, 4, 2, 1 (Opacus DP-SGD in every client, the app's
           default recipe; each client solves its noise for the target)
  robust   accuracy under a sign-flip attacker: clean FedAvg vs FedAvg, SecAgg+ and each robust method

With --seeds, every configuration runs once per seed; the summary gives each configuration's
worst accuracy and its worst gap to the section's baseline run of the same seed (no DP, or
the clean run). Each configuration is a full simulation (in-process runtime; --runtime ray for Flower's).
The poisoning trade-off (accuracy and attack success against epsilon, with and without quarantine)
needs the detector, so it lives above this part: python -m course.privacy_bench.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from lab.cli import LabError, parser, run_main, seed
from securefl.bench import SECTIONS, compare, run_section
from securefl.config import load_config, parse_overrides
from securefl.run import DEFAULT_RUNTIME, RUNTIMES


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("bench.py", __doc__ or "")
    # no `choices`: Python 3.11's argparse checks an empty "*" list against them and fails
    p.add_argument("sections", nargs="*", metavar="SECTION",
                   help=f"which benchmarks: {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--config", default="", help="run-config overrides applied to every run")
    p.add_argument("--seeds", type=seed, nargs="+", default=[42], metavar="SEED",
                   help="run every configuration once per seed (default: 42)")
    p.add_argument("--only", nargs="+", default=[], metavar="TEXT",
                   help="run only the configurations whose label contains TEXT (plus the baseline)")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=sorted(RUNTIMES),
                   help=f"simulation runtime (default {DEFAULT_RUNTIME})")
    args = p.parse_args(argv)
    if any(seed < 0 for seed in args.seeds):
        raise LabError("--seeds must be non-negative integers")
    base = parse_overrides(args.config)
    base.setdefault("out-dir", "reports/fl-bench")
    load_config(base)  # a bad override stops here
    sections = args.sections or list(SECTIONS)
    if unknown := [name for name in sections if name not in SECTIONS]:
        p.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    rows = [row for section in sections for row in run_section(section, base, args.seeds, args.only, args.runtime)]
    for row in rows:
        eps = "-" if row["epsilon"] is None else f"{row['epsilon']:.2f}"
        spr = "-" if row["s_per_round_after_first"] is None else f"{row['s_per_round_after_first']:.2f}"
        print(f"{row['section']:8} {row['run']:38} seed={row['seed']:<4} acc={row['final_accuracy']:.3f} "
              f"eps={eps:>8} level={row['privacy_level']:6} s/round={spr} ok={row['ok']} "
              f"flagged={row['flagged_clients']}")
    table = compare(rows)
    print(f"\nsummary over seeds {args.seeds} (gap = baseline of the same seed - this run)")
    for entry in table:
        gap = "-" if entry["worst_gap"] is None else f"{entry['worst_gap']:+.3f}"
        eps = "-" if entry["epsilon"] is None else f"{entry['epsilon']:.2f}"
        print(f"{entry['section']:8} {entry['run']:38} worst acc={entry['worst_accuracy']:.3f} "
              f"mean={entry['mean_accuracy']:.3f} worst gap={gap:>7} eps={eps:>8} level={entry['privacy_level']}")
    print(json.dumps({"runs": rows, "summary": table}, default=float))
    return 0


if __name__ == "__main__":
    run_main(main)
