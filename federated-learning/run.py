"""Run the secure federated-learning simulation (by default SecAgg+ with record-level DP-SGD in
every client, epsilon <= 8 per client at delta = 1e-5).

By default the clients train on the packaged digits (10 clients over 3 silos). With
--from-landings they train on what the three silos landed in Week 5 (one client per
silo, or --clients-per-silo N): each silo's landing is read through its cloud's SDK,
decrypted with its key service, every signature re-checked, quarantined records left
out. Keep the local cloud up (`make up`) between the ingest step and this one.

Writes models/fl_global.model (envelope-encrypted, signed), models/fl_run.json (with
"data_source" and per-silo record counts) and models/fl_run.png. Exits non-zero if the
configuration or the data is invalid (before training) or if the run fails its own
checks (model unchanged, a round missing clients).

Examples:
  python federated-learning/run.py
  python federated-learning/run.py --from-landings
  python federated-learning/run.py --from-landings --silos aws,azure --clients-per-silo 2
  python federated-learning/run.py --config 'target-epsilon=4'
  python federated-learning/run.py --config 'dp-level=client noise-multiplier=0.3 allow-weak-privacy=true'
  python federated-learning/run.py --config 'secagg=false mode=robust robust-method=krum attack=sign-flip'
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.cli import LabError, check_writable_dir, exit_code, parser, positive_int, print_summary, run_main
from lab.silos import SILOS, parse_silos
from securefl.config import app_defaults, load_config, parse_overrides
from securefl.run import DEFAULT_RUNTIME, RUNTIMES, run_simulation


def landing_overrides(overrides: dict[str, Any], clients: int) -> dict[str, Any]:
    """Fit the client count (and, unless set, SecAgg+'s share count) to the landings' clients."""
    given = overrides.get("num-clients")
    if given is not None and given != clients:
        raise LabError(f"num-clients={given} contradicts --from-landings ({clients} clients: "
                       "silos x --clients-per-silo); set --clients-per-silo instead")
    out = {**overrides, "num-clients": clients}
    defaults = {**app_defaults(), **overrides}
    if defaults["secagg"] and "num-shares" not in overrides:
        if clients < 3:
            raise LabError(f"SecAgg+ needs at least 3 clients, this run has {clients}: "
                           "add --clients-per-silo 2 (or set secagg=false)")
        shares = min(int(defaults["num-shares"]), clients if clients % 2 else clients - 1)
        out["num-shares"] = shares
        if "reconstruction-threshold" not in overrides:  # Flower's workflow needs it below the share count
            out["reconstruction-threshold"] = max(shares // 2 + 1, min(int(defaults["reconstruction-threshold"]), shares - 1))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("run.py", __doc__ or "")
    p.add_argument("--config", default="", metavar="'key=value ...'",
                   help=f"override run-config keys; known: {', '.join(sorted(app_defaults()))}")
    p.add_argument("--from-landings", action="store_true",
                   help="train on the silos' landed Week 5 data (needs `make up` and the ingest step)")
    p.add_argument("--silos", type=parse_silos, default=SILOS, metavar="aws,azure,gcp",
                   help="with --from-landings: the silos that take part (default all three)")
    p.add_argument("--clients-per-silo", type=positive_int, default=None, metavar="N",
                   help="with --from-landings: clients per silo, each with a share of its landing (default 1)")
    p.add_argument("--dataset", default="digits", help="with --from-landings: dataset name in the landing (default digits)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--verbose", action="store_true",
                   help="also show Flower's and Ray's logs on the console (they always go to fl_run.log)")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=sorted(RUNTIMES),
                   help=f"simulation runtime (default {DEFAULT_RUNTIME}: no Ray start-up; ray: Flower's engine)")
    args = p.parse_args(argv)
    overrides = parse_overrides(args.config)
    if not args.from_landings and (args.clients_per_silo is not None or args.silos != SILOS):
        raise LabError("--silos and --clients-per-silo apply to --from-landings")
    if args.from_landings:
        overrides = landing_overrides(overrides, (args.clients_per_silo or 1) * len(args.silos))
    cfg = load_config(overrides)  # fails here, before any cloud is read or Ray starts
    check_writable_dir(Path(cfg.out_dir))  # and so does an out-dir it could not write after training
    source = None
    if args.from_landings:
        from securefl.data import LandingSource

        source = LandingSource.read(args.silos, args.dataset)

    result = run_simulation(cfg, data_source=source, quiet=not args.verbose, runtime=args.runtime)
    s = result.summary
    brief = {k: s[k] for k in ("ok", "problems", "final_accuracy", "epsilon", "delta", "privacy_level", "accountant",
                               "noise_on", "secagg", "dp", "mode", "clients_per_round", "flagged_clients",
                               "seconds_per_round", "model", "plot", "log")}
    brief["privacy"] = s["privacy_guarantee"]["label"]
    brief["data_source"] = s.get("data_source")
    if s.get("silos"):
        brief["records_per_silo"] = {silo: c["used"] for silo, c in s["silos"].items()}
        brief["left_out_per_silo"] = {silo: c["quarantined_left_out"] + c["untrusted_left_out"]
                                      for silo, c in s["silos"].items()}
    brief["total_seconds"] = round(result.seconds, 1)
    print_summary(brief, args.json, "federated learning run")
    if not result.ok:
        raise LabError("run failed its checks: " + "; ".join(s["problems"]))
    return exit_code(True)


if __name__ == "__main__":
    run_main(main)
