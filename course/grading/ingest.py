"""``ingest:*``: the copy's ingest scripts on the grader's records, judged by what landed.

For each silo the grader starts that cloud's emulators, writes fresh records with its own
keys (``records.py``), runs the copy's step script on them (``--source``), then reads the
landing back itself (``landing.py``). The script's exit code and ``--json`` summary are
shown to the instructor but never score. One ingest run per silo is shared by every check
that needs it (the AWS run also serves ex01, ex02 and ex03).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from course.grading.contract import Item, check
from course.grading.landing import raw_of
from course.grading.records import EXPECTED_REASON, PIPELINE_KINDS
from course.grading.runner import Session, last_json, why

SCRIPTS: dict[str, tuple[str, ...]] = {
    "aws": ("ingestion/aws/kinesis_ingest.py", "--no-vpc"),
    "azure": ("ingestion/azure/eventhub_ingest.py",),
    "gcp": ("ingestion/gcp/pubsub_ingest.py",),
}
#: The run that the per-exercise checks read (the cheapest cloud to start).
EXERCISE_SILO = "aws"
DEFAULT_DATASET = "digits"


def observe(session: Session, silo: str) -> dict[str, Any]:
    """Run the copy's ingest for ``silo`` on fresh records and read the result back (memoised)."""
    def run() -> dict[str, Any]:
        session.cloud(silo)
        folder = session.work / f"ingest-{silo}"
        folder.mkdir(exist_ok=True)
        lines, truth_file = folder / "lines.jsonl", folder / "truth.json"
        seed = session.seed + sorted(SCRIPTS).index(silo)
        truth = session.helper("records", "--silo", silo, "--seed", str(seed), "--out", str(lines))
        script, *extra = SCRIPTS[silo]
        dataset = f"grade{seed % 1_000_000:06d}"
        if "--dataset" in session.run([script, "--help"], timeout=120).stdout:
            extra += ["--dataset", dataset]
        else:  # a script without --dataset (the GCP one before #18's uniform flags) lands in its default
            dataset = DEFAULT_DATASET
        proc = session.run([script, "--source", str(lines), "--json", *extra], timeout=600)
        truth_file.write_text(json.dumps(truth))  # only now: the copy never sees which record is which
        back = session.helper("readback", "--silo", silo, "--dataset", dataset, "--truth", str(truth_file))
        claimed = last_json(proc.stdout) or {}
        return {"truth": truth, "back": back, "sent": len(truth["valid"]) + len(truth["hostile"]),
                "script": f"{why(proc)}; it claimed landed={claimed.get('landed')} "
                          f"dead_lettered={claimed.get('dead_lettered')} (not scored)"}
    return session.memo(f"ingest:{silo}", run)


def _letters_by_raw(obs: dict[str, Any]) -> dict[bytes, list[dict[str, str]]]:
    found: dict[bytes, list[dict[str, str]]] = {}
    for letter in obs["back"]["deadletters"]:
        found.setdefault(raw_of(letter)[:256], []).append(letter)
    return found


def _hostile(obs: dict[str, Any], kind: str) -> tuple[dict[str, Any], list[dict[str, str]], int]:
    """(the hostile record, its dead letters, how often its id landed beyond the valid copy)."""
    import base64

    entry = next(h for h in obs["truth"]["hostile"] if h["kind"] == kind)
    raw = base64.b64decode(entry["raw_b64"])
    letters = _letters_by_raw(obs).get(raw[:256], [])
    seen = Counter(obs["back"]["landed"]) + Counter(obs["back"]["unverified"])
    extra = seen[entry["id"]] - (1 if entry["id"] in obs["truth"]["valid"] else 0)
    return entry, letters, extra


def kept_out(obs: dict[str, Any], kind: str) -> Item:
    """The hostile record did not land, and a dead letter holds its bytes (only once valid data lands)."""
    _, letters, extra = _hostile(obs, kind)
    lands = bool(obs["back"]["landed"])
    ok = lands and extra <= 0 and bool(letters)
    detail = ("the pipeline landed nothing" if not lands else
              "landed" if extra > 0 else "dead-lettered" if letters else "neither landed nor dead-lettered (lost)")
    return Item(f"{kind} record kept out", ok, detail)


def reason_item(obs: dict[str, Any], kind: str) -> Item:
    _, letters, _ = _hostile(obs, kind)
    said = [f"{d.get('field', '')}: {d.get('reason', '')}".lower() for d in letters]
    ok = any(re.search(EXPECTED_REASON[kind], s) for s in said)
    return Item(f"{kind} dead letter says why", ok, said[0][:120] if said else "no dead letter")


def pipeline_items(obs: dict[str, Any]) -> list[Item]:
    truth, back = obs["truth"], obs["back"]
    landed = Counter(back["landed"])
    missing = [i for i in truth["valid"] if landed[i] != 1]
    items = [Item("every valid record landed once, readable and verified", not missing,
                  f"{len(truth['valid']) - len(missing)}/{len(truth['valid'])} valid records read back; "
                  f"script {obs['script']}")]
    items += [kept_out(obs, kind) for kind in PIPELINE_KINDS]
    accounted = sum(landed.values()) + len(back["unverified"]) + len(back["deadletters"])
    items.append(Item("nothing lost: landed + dead-lettered = sent", bool(landed) and accounted == obs["sent"],
                      f"{accounted} accounted for, {obs['sent']} sent"))
    return items


def _silo_check(silo: str) -> None:
    @check(f"ingest:{silo}")
    def run(session: Session) -> list[Item]:
        return pipeline_items(observe(session, silo))
    run.__doc__ = f"The copy's {SCRIPTS[silo][0]} on the grader's records, read back through the SDK."


for _silo in SCRIPTS:
    _silo_check(_silo)


@check("ingest:forged-signature")
def forged(session: Session) -> list[Item]:
    """ex01 end to end: a record whose signature does not verify never lands."""
    return [kept_out(observe(session, EXERCISE_SILO), "forged")]


@check("ingest:reasons")
def reasons(session: Session) -> list[Item]:
    """ex02 end to end: each hostile record's dead letter names the fault."""
    obs = observe(session, EXERCISE_SILO)
    return [reason_item(obs, kind) for kind in PIPELINE_KINDS]


@check("ingest:at-rest")
def at_rest(session: Session) -> list[Item]:
    """ex03 end to end: what the copy stored is ciphertext bound to its own object's context."""
    facts = observe(session, EXERCISE_SILO)["back"]["at_rest"]
    n = facts["objects"]
    some = n > 0
    return [Item("landed objects are envelopes", some and facts["not_envelope"] == 0, f"{n} objects read"),
            Item("no record id readable at rest", some and facts["plaintext_ids"] == 0,
                 f"{facts['plaintext_ids']} objects show an id in clear"),
            Item("each header binds its own object's context", some and facts["wrong_context"] == 0,
                 f"{facts['wrong_context']} with another context"),
            Item("the grader's code decrypts them under that context", some and facts["undecryptable"] == 0,
                 f"{facts['undecryptable']} refused"),
            Item("no nonce used twice", some and facts["reused_nonces"] == 0, f"{facts['reused_nonces']} reused")]
