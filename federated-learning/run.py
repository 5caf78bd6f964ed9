"""Run the secure federated-learning simulation (10 clients over 3 silos; by default SecAgg+ with
record-level DP-SGD in every client, epsilon <= 8 per client at delta = 1e-5).

Writes models/fl_global.model (envelope-encrypted, signed), models/fl_run.json and
models/fl_run.png. Exits non-zero if the configuration is invalid (before training) or
if the run fails its own checks (model unchanged, a round missing clients).

Examples:
  python federated-learning/run.py
  python federated-learning/run.py --config 'target-epsilon=4'
  python federated-learning/run.py --config 'dp-level=client noise-multiplier=0.3 allow-weak-privacy=true'
  python federated-learning/run.py --config 'secagg=false mode=robust robust-method=krum attack=sign-flip'
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lab.cli import LabError, check_writable_dir, exit_code, parser, print_summary, run_main
from securefl.config import app_defaults, load_config, parse_overrides
from securefl.run import DEFAULT_RUNTIME, RUNTIMES, run_simulation


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("run.py", __doc__ or "")
    p.add_argument("--config", default="", metavar="'key=value ...'",
                   help=f"override run-config keys; known: {', '.join(sorted(app_defaults()))}")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--verbose", action="store_true",
                   help="also show Flower's and Ray's logs on the console (they always go to fl_run.log)")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=sorted(RUNTIMES),
                   help=f"simulation runtime (default {DEFAULT_RUNTIME}: no Ray start-up; ray: Flower's engine)")
    args = p.parse_args(argv)
    cfg = load_config(parse_overrides(args.config))  # fails here, before Ray starts
    check_writable_dir(Path(cfg.out_dir))  # and so does an out-dir it could not write after training

    result = run_simulation(cfg, quiet=not args.verbose, runtime=args.runtime)
    s = result.summary
    brief = {k: s[k] for k in ("ok", "problems", "final_accuracy", "epsilon", "delta", "privacy_level", "accountant",
                               "noise_on", "secagg", "dp", "mode", "clients_per_round", "flagged_clients",
                               "seconds_per_round", "model", "plot", "log")}
    brief["privacy"] = s["privacy_guarantee"]["label"]
    brief["total_seconds"] = round(result.seconds, 1)
    print_summary(brief, args.json, "federated learning run")
    if not result.ok:
        raise LabError("run failed its checks: " + "; ".join(s["problems"]))
    return exit_code(True)


if __name__ == "__main__":
    run_main(main)
