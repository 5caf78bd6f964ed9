"""Run the federated-learning app as a real deployment on 127.0.0.1 (SuperLink + SuperNodes).

Starts `flower-superlink` with TLS (a certificate from the lab CA) and SuperNode
authentication, registers one fresh EC P-384 key per node (`flwr supernode register`),
starts one `flower-supernode` per client with its private key, submits the app with
`flwr run`, waits for it, checks the result (run completed, model changed, every round
aggregated every node) and stops every process it started — also on failure or Ctrl-C.
With --rogue it also starts a node whose key was never registered and checks it is refused.

Rounds are slow in a deployment (a process per message, 3 s polling): on 2 cores about
40 s per plain round and 90-110 s per SecAgg+ round with 3 nodes.

Examples:
  python federated-learning/deploy.py                      # 3 nodes, 2 rounds, SecAgg+ + DP
  python federated-learning/deploy.py --rounds 1 --rogue --config 'secagg=false'
"""
from __future__ import annotations

import time
from collections.abc import Sequence

from tqdm import tqdm

from lab.cli import LabError, count, exit_code, number, output_dir, parser, print_summary, run_main
from lab.config import settings
from lab.paths import REPORTS_DIR
from securefl.config import app_defaults, parse_overrides


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("deploy.py", __doc__ or "")
    p.add_argument("--nodes", type=count(16), default=3, help="number of SuperNodes = clients (default 3, at most 16)")
    p.add_argument("--rounds", type=count(100), default=2, help="server rounds (default 2, at most 100)")
    p.add_argument("--config", default="", metavar="'key=value ...'",
                   help=f"run-config overrides as in run.py; known: {', '.join(sorted(app_defaults()))}")
    p.add_argument("--rogue", action="store_true", help="also start a node with an unregistered key; it must be refused")
    p.add_argument("--out-dir", type=output_dir, default=REPORTS_DIR / "fl-deploy",
                   help="where the ServerApp writes fl_run.json and the model (default reports/fl-deploy)")
    p.add_argument("--timeout", type=number(0, 24 * 3600), default=None, help="seconds to wait for the run (default 90 + 120/round)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = p.parse_args(argv)
    if args.nodes < 2:
        raise LabError("--nodes must be at least 2 (federated averaging needs several clients)")

    from securefl.deploy import deploy, deployment_config

    cfg = deployment_config(args.nodes, args.rounds, parse_overrides(args.config), args.out_dir)
    workdir = settings().state_dir / "fl-deploy" / time.strftime("%Y%m%d-%H%M%S")
    with tqdm(desc="deployment run", unit="s", bar_format="{desc}: {elapsed} {postfix}") as bar:
        def progress(status: str, elapsed: float) -> None:
            bar.set_postfix_str(f"{status}, {elapsed:.0f} s")
        result = deploy(cfg, workdir, rogue=args.rogue, run_timeout=args.timeout, progress=progress)
    s = result.summary
    brief = {"ok": result.ok, "run_id": result.run_id, "status": result.status, "problems": s["problems"],
             "nodes": result.node_ids, "tls": "lab CA", "supernode_auth": True,
             "rogue_node_refused": result.rogue_refused, "final_accuracy": s["final_accuracy"],
             "initial_accuracy": s["initial_accuracy"], "clients_per_round": s["clients_per_round"],
             "secagg": s["secagg"], "dp": s["dp"], "privacy_level": (s["dp_settings"] or {}).get("level"),
             "epsilon": s["epsilon"], "delta": s["delta"], "seconds_per_round": s["seconds_per_round"],
             "model": s["model"], "total_seconds": round(result.seconds, 1), "logs": str(workdir / "logs")}
    print_summary(brief, args.json, "federated learning deployment")
    if not result.ok:
        why = list(s["problems"])
        if result.status != "finished:completed":
            why.append(f"run status {result.status}")
        if result.rogue_refused is False:
            why.append("the node with an unregistered key was NOT refused")
        raise LabError("deployment failed its checks: " + "; ".join(why))
    return exit_code(True)


if __name__ == "__main__":
    run_main(main)
