"""``python -m lab up|down|status|env|trust`` — run the local cloud by hand; manage producer trust.

Examples::

    python -m lab up aws          # start moto, leave it running
    eval "$(python -m lab env)"   # point boto3 / the AWS CLI at it
    aws kinesis list-streams
    python -m lab status
    python -m lab down            # stop everything `up` started
    python -m lab trust list      # enrolled / revoked producers (see `python -m lab trust -h`)
"""
from __future__ import annotations

import shlex
from collections.abc import Sequence

from lab.cli import LabError, parser, run_main
from lab.localcloud import EmulatorError, SERVICES, down, status, up
from lab.localcloud.base import RunningService
from lab import trust_cli
from lab.silos import SILOS


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("python -m lab", __doc__ or "")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("up", "start emulators (default: all clouds) and leave them running"),
        ("down", "stop emulators started by `up`"),
    ):
        sp = sub.add_parser(name, help=help_text)
        sp.add_argument("services", nargs="*", help="cloud names (aws, azure, gcp) or emulator names")
    sub.add_parser("status", help="show which emulators run, on which ports")
    sub.add_parser("env", help="print `export` lines that point SDKs at running emulators")
    trust_cli.add_parser(sub)
    args = p.parse_args(argv)
    try:
        if args.command == "trust":
            return trust_cli.run(args)
        if args.command == "up":
            for state in up(args.services or SILOS):
                print(f"{state.name:<10} up   127.0.0.1:{state.port}  pid {state.pid}")
            print('Point your shell at them: eval "$(python -m lab env)"')
        elif args.command == "down":
            stopped = down(args.services or SILOS)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        elif args.command == "status":
            for row in status():
                where = f"127.0.0.1:{row['port']}" if row["running"] else "-"
                state = "up" if row["running"] else ("real cloud" if row["mode"] == "real" else "down")
                print(f"{row['service']:<10} {row['cloud']:<6} {state:<10} {where:<16} {row['description']}")
        elif args.command == "env":
            for name, emulator in SERVICES.items():
                running: RunningService | None = emulator.running()
                if running:
                    for key, value in running.env.items():
                        print(f"export {key}={shlex.quote(value)}")
    except EmulatorError as exc:
        raise LabError(str(exc)) from exc
    return 0


if __name__ == "__main__":
    run_main(main)
