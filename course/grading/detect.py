"""``detect:poisoned-sets``: the copy's detector on sets the grader poisoned this run (ex09).

A backdoored set (source, target and rate drawn per run) and a clean set go through
the copy's ``poisoning-detection/detect.py``; the grader scores its report against the
truth it kept to itself: recall and precision of the flags, a high risk on poison and a
low one on clean data.
"""
from __future__ import annotations

import json
from typing import Any

from course.grading.contract import Item, check
from course.grading.runner import Session, why

MIN_RECALL = MIN_PRECISION = 0.5
RISK = 0.5
#: Flags a detector may raise on a clean set (ambiguous digits), as a share of it.
CLEAN_FLAG_SHARE = 0.03
#: Backdoored sets per grading run (each is one detector training on this machine's CPU).
POISONED_SETS = 1


def _scan(session: Session, name: str, kind: str, seed: int) -> tuple[dict[str, Any], dict[str, Any], str]:
    data, report = session.work / f"{name}.npz", session.work / f"{name}-report.json"
    truth = session.helper("poison", "--seed", str(seed), "--kind", kind, "--out", str(data))
    proc = session.run(["poisoning-detection/detect.py", "--data", str(data), "--out", str(report), "--quiet"],
                       timeout=900)
    try:
        rep = json.loads(report.read_text()) if report.is_file() else {}
    except ValueError:
        rep = {}
    return truth, rep if isinstance(rep, dict) else {}, why(proc)


def _risk(rep: dict[str, Any]) -> float | None:
    risk = rep.get("risk_score")
    return float(risk) if isinstance(risk, (int, float)) and 0 <= risk <= 1 else None


@check("detect:poisoned-sets")
def poisoned_sets(session: Session) -> list[Item]:
    """Flags on a backdoored set, and a risk score that tells it from a clean one, against the grader's truth."""
    items: list[Item] = []
    risks: list[float | None] = []
    for n in range(1, POISONED_SETS + 1):
        truth, rep, status = _scan(session, f"poisoned-{n}", "backdoor", session.seed + 10 * n)
        poison = set(truth["poisoned"])
        flagged = {str(f) for f in rep.get("flagged", [])} if isinstance(rep.get("flagged"), list) else set()
        hit = len(flagged & poison)
        recall, precision = hit / max(len(poison), 1), hit / max(len(flagged), 1)
        risks.append(_risk(rep))
        label = f"backdoor {truth['source']}->{truth['target']} at {truth['rate']:.0%}"
        evidence = (f"{len(poison)} poisoned, {len(flagged)} flagged, recall {recall:.2f}, precision {precision:.2f}, "
                    f"risk {risks[-1]}" if rep else status)
        items.append(Item(f"{label}: flags find the poison", bool(rep) and recall >= MIN_RECALL
                          and precision >= MIN_PRECISION, evidence))
    truth, rep, status = _scan(session, "clean", "clean", session.seed + 30)
    flagged = rep.get("flagged", []) if isinstance(rep.get("flagged"), list) else []
    clean_risk = _risk(rep)
    # one item: a constant "high risk" (or a report that never flags) must not earn anything
    ok = (bool(rep) and clean_risk is not None and clean_risk < RISK and len(flagged) <= CLEAN_FLAG_SHARE * truth["n"]
          and all(r is not None and r >= RISK for r in risks))
    items.append(Item(f"risk >= {RISK} on poison, < {RISK} on clean data (<= {CLEAN_FLAG_SHARE:.0%} flagged)", ok,
                      f"poisoned risk {risks}, clean risk {clean_risk}, {len(flagged)} of {truth['n']} clean flagged"
                      if rep else status))
    return items
