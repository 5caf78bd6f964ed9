"""Poisoning-detection harness: prints precision, recall, F1, AUC and seconds per detector.

    python poisoning-detection/bench.py [--datasets digits mnist] [--seeds 0 1 2] [--no-remediation]
                                        [--retrains 3]

Runs every case on each dataset and seed, our detectors, the fused one and stock ART
side by side, then (unless --no-remediation) retrains without the flagged samples and
reports clean accuracy and attack success rate, each a mean over --retrains training seeds,
next to a clean model trained with the same seeds. Writes the Markdown tables to --out.
"""
from __future__ import annotations

from collections.abc import Sequence

from lab.cli import atomic_write, count, output_file, parser, run_main, seed, share


def case_arg(text: str) -> tuple[str, float]:
    """Parse CASE:RATE (src, all2one, flip or clean) for --cases; every case but clean needs a rate."""
    import argparse

    case, _, rate = text.partition(":")
    if case not in ("src", "all2one", "flip", "clean"):
        raise argparse.ArgumentTypeError(f"unknown case {case!r}: use src, all2one, flip or clean")
    if case == "clean":
        return case, 0.0
    try:
        return case, share(rate)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{case} needs a rate in (0, 1], as in {case}:0.1 ({exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("bench.py", __doc__ or "")
    p.add_argument("--datasets", nargs="+", choices=["digits", "mnist"], default=["digits", "mnist"])
    p.add_argument("--seeds", nargs="+", type=seed, default=[0, 1, 2])
    p.add_argument("--cases", nargs="+", metavar="CASE:RATE", type=case_arg,
                   help="run only these cases, e.g. src:0.05 clean:0 (default: all of harness.CASES)")
    p.add_argument("--no-remediation", action="store_true", help="skip the retrain-after-removal step")
    p.add_argument("--retrains", type=count(20), default=3,
                   help="training seeds averaged for the clean model and for each retrain (default 3: one "
                        "retrain's accuracy on digits moves 1-1.7 points with the seed alone)")
    p.add_argument("--out", type=output_file, default="reports/bench-poison.md", help="Markdown output")
    args = p.parse_args(argv)
    import json

    import torch

    from poisoning_detection import harness

    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write(rows: list[harness.Row]) -> str:
        text = "## Detection\n\n" + harness.table(rows) + "\n\n## Remediation\n\n" + harness.remediation_table(rows)
        atomic_write(args.out, text + "\n")
        atomic_write(args.out.with_suffix(".json"), json.dumps([r.__dict__ for r in rows], default=float, indent=1))
        return text

    rows = harness.run(args.datasets, args.seeds, not args.no_remediation, cases=args.cases, checkpoint=write,
                       retrains=args.retrains)
    print(write(rows))
    return 0


if __name__ == "__main__":
    run_main(main)
