"""Scan a training set for poisoning and write a JSON report.

    python poisoning-detection/detect.py --data FILE.npz --out REPORT.json [--plots DIR]
    python poisoning-detection/detect.py --landing aws --out REPORT.json

--landing SILO scans what that silo landed in Week 5 (read through its cloud's SDK and
key service, every signature re-checked: the reader the federated clients use; keep
`make up` running) and writes the silo's quarantine list, which the next
`run.py --from-landings` honours.

The .npz holds `x` (float32: N×D, N×H×W or N×C×H×W), `y` (int), optional `ids` (str)
and `producers` (str). The tool trains its own small model (or loads one with --model),
runs activation clustering, spectral signatures, loss and gradient detectors, fuses
them, and writes risk_score, flagged ids, per-class verdicts, suspected source/target
classes, provenance and mitigations. --remediate also retrains without the flagged
samples and reports clean accuracy (and, with --source/--target, attack success rate)
before and after, on the held-out --test set.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import argparse

from lab.cli import LabError, atomic_write, console, count, output_dir, output_file, parser, run_main, seed
from lab.silos import SILOS, check_silo

MAX_CLASS = 999


def check_silo_arg(text: str) -> str:
    try:
        return check_silo(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser():  # type: ignore[no-untyped-def]
    p = parser("detect.py", __doc__ or "")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="input .npz (x, y, optional ids, producers)")
    src.add_argument("--landing", type=check_silo_arg, metavar="SILO",
                     help=f"scan this silo's landed training set ({', '.join(SILOS)}) and write its quarantine list")
    p.add_argument("--dataset", default="digits", help="with --landing: dataset name in the landing (default digits)")
    p.add_argument("--out", type=output_file, required=True, help="where to write the JSON report")
    p.add_argument("--plots", type=output_dir, help="folder for PNG plots (projections, score histograms)")
    p.add_argument("--model", type=Path, help="use this saved model instead of training one")
    p.add_argument("--save-model", type=output_file, help="save the trained model here (weights only)")
    p.add_argument("--records", type=Path, help="JSONL of signed records: maps ids to producers")
    p.add_argument("--verify-signatures", action="store_true",
                   help="verify every record's signature against the local trust store (.lab/keys)")
    p.add_argument("--shape", help="reshape flat rows to HxW images, e.g. 8x8 (default: auto for squares)")
    p.add_argument("--epochs", type=count(1000), help="training epochs (default: by data size)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--remediate", action="store_true", help="retrain without flagged samples and compare")
    p.add_argument("--test", type=Path, help="clean held-out .npz (x, y) for --remediate")
    p.add_argument("--source", type=count(MAX_CLASS, lower=0), help="attack source class for ASR (omit for all-to-one)")
    p.add_argument("--target", type=count(MAX_CLASS, lower=0), help="attack target class for ASR")
    p.add_argument("--retrains", type=count(20), default=1,
                   help="with --remediate: retrain this many times (seeds seed, seed+1, ...), report means")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from poisoning_detection import api, data, model, provenance

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    shape = data.parse_shape(args.shape)
    landed = None
    if args.landing:
        from poisoning_detection import landing

        landed = landing.read(args.landing, args.dataset)
        a = landed.arrays
        ds = data.from_arrays(a.x, a.y, a.ids, a.producers, shape or landing.SHAPE)
    else:
        ds = data.load_npz(args.data, shape)
    if args.records:
        from ingestion.records import TrustStore

        trust = TrustStore.from_dir() if args.verify_signatures else None
        ds.producers = provenance.producers_from_records(args.records, ds.ids, trust)
    if args.remediate and args.test is None:
        raise LabError("--remediate needs --test (a clean held-out .npz) to measure accuracy")
    trained = model.load(args.model) if args.model else None
    result = api.run_scan(ds, seed=args.seed, progress=not args.quiet, epochs=args.epochs, trained=trained)
    out = result.report.model_dump()
    if args.save_model:
        model.save(result.trained, args.save_model)
    if args.remediate:
        from poisoning_detection.remediation import remediate

        test = data.load_npz(args.test, shape)
        rem, _ = remediate(ds.x, ds.y, result.fused.flagged, result.trained, test.x, test.y,
                           args.source, args.target, seed=args.seed, progress=not args.quiet,
                           retrains=args.retrains)
        out["remediation"] = rem.as_dict()
    if args.plots:
        from poisoning_detection.plots import write_plots

        out["plots"] = [str(p) for p in write_plots(result, args.plots)]
    rep = result.report
    if landed is not None:
        path, out["landing"] = landing.quarantine(landed, rep.flagged, str(args.out))
    import json

    atomic_write(args.out, json.dumps(out, indent=2))
    console.print(f"risk_score {rep.risk_score:.2f}; flagged {rep.flagged_count} of {rep.n_samples}; "
                  f"suspected {[(s.source, s.target, s.count) for s in rep.suspected]}; "
                  f"compromised producers {rep.compromised_producers}; "
                  f"train {rep.seconds['train']} s, detect {rep.seconds['detect']} s -> {args.out}", markup=False)
    if landed is not None:
        console.print(f"{landed.silo}: scanned {len(landed.arrays)} landed records "
                      f"({landed.untrusted} of revoked/unknown producers left out); "
                      f"quarantine list ({rep.flagged_count} ids) -> {path}", markup=False)
    return 0


if __name__ == "__main__":
    run_main(main)
