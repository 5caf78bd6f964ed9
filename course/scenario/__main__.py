"""``python -m course.scenario`` — the end-to-end scenario behind ``make demo``.

Three silos (AWS, Azure, GCP) stream signed records through Kinesis, Event Hubs and
Pub/Sub into envelope-encrypted landings on the local cloud. One producer of the
compromised silo has had its key stolen and injects backdoored, validly signed
records. The detector scans each silo's landed data, flags the injected records and
names the producer; the flagged records are quarantined and the producer revoked.
Federated training (SecAgg+, DP-SGD noise added on each client) runs on the raw data and after quarantine, and
the attack success rate is measured on held-out images. A report (Markdown + HTML
with plots) is written; its path is the last line printed.
"""
from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from lab.cli import LabError, output_dir, parser, run_main, seed
from lab.localcloud import EmulatorError
from course.scenario.config import ScenarioConfig
from course.scenario.console import StepLog


def _bool(text: str) -> bool:
    if text.lower() in ("on", "true", "yes", "1"):
        return True
    if text.lower() in ("off", "false", "no", "0"):
        return False
    raise ValueError(text)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("python -m course.scenario", __doc__ or "")
    p.add_argument("--compromised", default="aws", help="silo whose producer is compromised: aws|azure|gcp|none")
    p.add_argument("--poison-rate", type=float, default=0.08, help="injected / clean records of that silo (0-0.5]")
    p.add_argument("--source", type=int, default=0, help="class whose images carry the trigger (0-9)")
    p.add_argument("--target", type=int, default=1, help="label the trigger should produce (0-9)")
    p.add_argument("--records", type=int, default=None, help="clean records per silo (default: its whole share)")
    p.add_argument("--invalid", type=int, default=5, help="broken records mixed into each stream")
    p.add_argument("--rounds", type=int, default=None, help="federated rounds per training run (default: the app's, 10)")
    p.add_argument("--clients", type=int, default=10, help="federated clients across the three silos")
    p.add_argument("--dp", type=_bool, default=True, metavar="on|off", help="record-level DP-SGD on every client, ε <= 8 (default on)")
    p.add_argument("--secagg", type=_bool, default=True, metavar="on|off", help="SecAgg+ (default on)")
    p.add_argument("--no-baseline", action="store_true", help="skip the no-attack reference training")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--out", type=output_dir, default=None,
                   help="report folder (default reports/scenario-<time>/); checked before the run starts")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    values = {"compromised": args.compromised, "poison_rate": args.poison_rate, "source": args.source,
              "target": args.target, "records": args.records, "invalid": args.invalid, "rounds": args.rounds,
              "clients": args.clients, "dp": args.dp, "secagg": args.secagg, "baseline": not args.no_baseline,
              "seed": args.seed, "progress": not args.quiet}
    if args.out is not None:
        values["out"] = args.out
    try:
        cfg = ScenarioConfig(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LabError(f"--{'-'.join(str(x) for x in first['loc']).replace('_', '-')}: {first['msg']}") from None

    from course.scenario.report import write_report
    from course.scenario.run import run

    log = StepLog()
    try:
        result = run(cfg, log)
    except EmulatorError as exc:
        raise LabError(str(exc)) from exc
    paths = write_report(result, cfg.out)
    verdict = "[green]all checks passed[/]" if result["ok"] else "[red]some checks FAILED[/]"
    log.console.print(f"\n{verdict} in {result['seconds_total']} s. Report:")
    for path in paths:
        print(path)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    run_main(main)
