"""``fl:*``: the copy's Flower app trained with the grader's configuration, its model opened here.

The grader picks the run (3 clients, 2 rounds, SecAgg+ with 3 shares, client-level DP with
a noise multiplier drawn for this grading run), creates the model-signing key itself before
the run, then verifies, decrypts and evaluates the model file with its own code, and checks
the epsilon the run reports against its own RDP accounting of that configuration.
"""
from __future__ import annotations

import json
from typing import Any

from course.grading.contract import Item, check
from course.grading.runner import Session, why

ROUNDS, CLIENTS, DELTA = 2, 3, 1e-5
#: The grader-measured accuracy a trained model must reach on the held-out digits (4x chance; the
#: reference reached 0.56 at z=0.27, 3 local epochs, 2 rounds).
MIN_ACCURACY = 0.4


def noise_multiplier(session: Session) -> float:
    return round(0.2 + (session.seed % 15) / 100, 2)


def observe(session: Session) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        out = session.work / "fl"
        key = session.helper("signing-key")
        config = (f"num-clients={CLIENTS} num-server-rounds={ROUNDS} local-epochs=3 secagg=true num-shares=3 "
                  f"reconstruction-threshold=2 dp=true dp-level=client noise-multiplier={noise_multiplier(session)} "
                  f"delta={DELTA} clipping-norm=4.0 clipping-range=8.0 mode=fedavg signer=local seed={session.seed % 10_000} "
                  f"out-dir={out}")
        proc = session.run(["federated-learning/run.py", "--config", config, "--json"], timeout=900)
        facts = session.helper("model", "--dir", str(out), "--public-key", key["public_key"])
        report_file = out / "fl_run.json"
        try:
            report = json.loads(report_file.read_text()) if report_file.is_file() else {}
        except ValueError:
            report = {}
        return {"facts": facts, "report": report if isinstance(report, dict) else {}, "script": why(proc)}
    return session.memo("fl", run)


@check("fl:model")
def model(session: Session) -> list[Item]:
    """The model file: signed with the grader's key, sealed, and it learned (accuracy measured here)."""
    obs = observe(session)
    f = obs["facts"]
    problem = f.get("problem") or obs["script"]
    return [Item("model file signed with the configured key", bool(f["signed"]), problem if not f["signed"] else "ok"),
            Item("weights sealed in an envelope the grader opens", bool(f["sealed"]), problem if not f["sealed"] else "ok"),
            Item(f"grader-measured accuracy >= {MIN_ACCURACY}", (f["accuracy"] or 0) >= MIN_ACCURACY,
                 f"accuracy {f['accuracy']} on held-out digits")]


@check("fl:epsilon")
def epsilon(session: Session) -> list[Item]:
    """ex07 end to end: the epsilon the run reports is the grader's own accounting of its configuration."""
    import dp_accounting
    from dp_accounting.rdp import RdpAccountant

    obs = observe(session)
    delta = DELTA
    acc = RdpAccountant()
    acc.compose(dp_accounting.GaussianDpEvent(noise_multiplier(session)), ROUNDS)
    expected = float(acc.get_epsilon(delta))
    got = obs["report"].get("epsilon")
    ok = isinstance(got, (int, float)) and abs(got - expected) <= 1e-6 * max(1.0, expected)
    return [Item("reported epsilon = the grader's RDP accounting", ok,
                 f"reported {got}, expected {expected:.4g} (z={noise_multiplier(session)}, {ROUNDS} rounds, "
                 f"delta={delta:g})")]
