"""Poisoning-detection harness: prints precision, recall, F1, AUC and seconds per detector.

    python poisoning-detection/bench.py [--quick] [--datasets digits mnist cancer] [--seeds 0 1 2]
                                        [--cases blend:0.1 ...] [--no-remediation] [--retrains 1]

Runs every case (attack family, harness.CASES) that fits each dataset, on each seed: our
detectors, the fused one and stock ART side by side, then (unless --no-remediation) retrains
without the flagged samples on the patch backdoors and reports clean accuracy and attack
success rate, each a mean over --retrains training seeds, next to a clean model trained with
the same seeds. --quick: one case per family on digits and breast cancer, seed 0, no
retrains (a few minutes). Writes the Markdown tables to --out.
"""
from __future__ import annotations

from collections.abc import Sequence

from lab.cli import atomic_write, count, output_file, parser, run_main, seed, share


#: The harness's case names (harness.KINDS; listed here so --help needs no torch import).
CASE_NAMES = ("src", "all2one", "blend", "blend-all2one", "dark", "mixed", "combo", "feature", "flip", "clean")


def case_arg(text: str) -> tuple[str, float]:
    """Parse CASE:RATE (one of CASE_NAMES) for --cases; every case but clean needs a rate."""
    import argparse

    case, _, rate = text.partition(":")
    if case not in CASE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown case {case!r}: use one of {', '.join(CASE_NAMES)}")
    if case == "clean":
        return case, 0.0
    try:
        return case, share(rate)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{case} needs a rate in (0, 1], as in {case}:0.1 ({exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("bench.py", __doc__ or "")
    p.add_argument("--quick", action="store_true",
                   help="one case per family on digits and breast cancer, seed 0, no remediation "
                        "(explicit --datasets/--seeds/--cases still win)")
    p.add_argument("--datasets", nargs="+", choices=["digits", "mnist", "cancer"],
                   help="default: digits mnist cancer (--quick: digits cancer)")
    p.add_argument("--seeds", nargs="+", type=seed, help="default: 0 1 2 (--quick: 0)")
    p.add_argument("--cases", nargs="+", metavar="CASE:RATE", type=case_arg,
                   help="run only these cases, e.g. src:0.05 clean:0 (default: all of harness.CASES)")
    p.add_argument("--no-remediation", action="store_true", help="skip the retrain-after-removal step")
    p.add_argument("--retrains", type=count(20), default=1,
                   help="training seeds averaged for the clean model and for each retrain (default 1; use 3 "
                        "to judge 'within 1 point': one retrain's accuracy on digits moves 1-1.7 points "
                        "with the seed alone)")
    p.add_argument("--out", type=output_file, default="reports/bench-poison.md", help="Markdown output")
    args = p.parse_args(argv)
    datasets = args.datasets or (["digits", "cancer"] if args.quick else ["digits", "mnist", "cancer"])
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    import json

    import torch

    from poisoning_detection import data, harness

    for case, _ in args.cases or ():
        if not any(harness.KINDS[case].applies(tabular=d in data.TABULAR) for d in datasets):
            p.error(f"--cases {case}: it applies to none of --datasets {' '.join(datasets)} "
                    "(the feature trigger needs cancer; image triggers need digits or mnist)")
    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def write(rows: list[harness.Row]) -> str:
        text = ("## Detection\n\n" + harness.table(rows) + "\n\n## Fused verdict per set\n\n"
                + harness.risk_table(rows) + "\n\n## Remediation\n\n" + harness.remediation_table(rows))
        atomic_write(args.out, text + "\n")
        atomic_write(args.out.with_suffix(".json"), json.dumps([r.__dict__ for r in rows], default=float, indent=1))
        return text

    cases = args.cases or (harness.QUICK_CASES if args.quick else None)
    rows = harness.run(datasets, seeds, not (args.no_remediation or args.quick), cases=cases, checkpoint=write,
                       retrains=args.retrains)
    print(write(rows))
    return 0


if __name__ == "__main__":
    run_main(main)
