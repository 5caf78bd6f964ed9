"""Case study: a stolen producer key poisons the AWS silo's Kinesis stream.

Attack: ``aws-producer-b`` is a second, registered producer of the AWS silo. Its key is
stolen; the attacker sends copies of digit-0 images with the BadNets trigger, labelled 1.
They are validly signed, so the consumer lands them, encrypted, like any other record.
Detection: the poisoning detector scans the *landed* data (decrypted and re-verified), and
provenance maps the flagged ids to the producer whose key signed them.
Mitigation: quarantine the flagged ids, revoke the producer in the operator's sealed trust store
(``python -m lab trust revoke``: persistent, with the key's fingerprint, seen by every reader; a
fresh process confirms it), rotate the silo's KMS key, and re-ingest: the revoked producer's
records are dead-lettered (``revoked producer``) and never land. A re-run enrols the producer
again with a new key (the stolen one can never come back).
"""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ingestion.records import REVOKED_PRODUCER, Record, TrustStore, producer_signing_key, sign_record
from course.case_studies.common import CaseResult, work_dir
from course.revocation import reason_in_fresh_process

NAME = "kinesis-poisoning"
ATTACKER = "aws-producer-b"
HONEST = "aws-producer-a"
DATASET = "case-kinesis-poisoning"
SOURCE, TARGET = 0, 1


def register_producer(name: str = ATTACKER) -> None:
    """Enrol ``name`` for the AWS silo in the operator's trust store, as the silo once did for the
    producer whose key is later stolen (a previous run revoked it: it comes back with a new key)."""
    from lab.trust import ensure_enrolled

    ensure_enrolled(name, "aws")


def revoke_producer(name: str = ATTACKER) -> Path:
    """Revoke ``name`` in the sealed trust store (it lasts) and write the case's revocation record."""
    from lab.trust import TrustFile

    entry = TrustFile().revoke(name, reason=f"{NAME}: key stolen")
    path = work_dir(NAME) / "revoked.json"
    path.write_text(json.dumps({"revoked": name, "ed25519_sha256": entry.fingerprint,
                                "revoked_at": entry.revoked_at, "store": str(TrustFile().path)}, indent=1))
    return path


def poisoned_records(count: int, seed: int) -> list[Record]:
    """``count`` copies of source-class images with the trigger, labelled TARGET, signed by the stolen key."""
    from ingestion.samples import generate_records, silo_share
    from poisoning_detection.attack import add_trigger

    key = producer_signing_key(ATTACKER)
    share = generate_records("aws", len(silo_share("aws")), seed=seed, producer=ATTACKER, key=key)
    sources = [r for r in share if r.label == SOURCE][:count]
    if len(sources) < count:
        raise ValueError(f"the AWS share holds only {len(sources)} images of class {SOURCE}")
    out = []
    for rec in sources:
        features = add_trigger(np.asarray([rec.features], dtype=np.float32), value=1.0)[0]
        forged = rec.model_copy(update={"id": f"{rec.id}-pb", "label": TARGET,
                                        "features": [round(float(v), 4) for v in features], "signature": ""})
        out.append(sign_record(forged, key))
    return out


def _landed(dataset: str, trust: TrustStore) -> list[Record]:
    from ingestion.aws.ingest import Silo
    from ingestion.aws.provision import provision
    from ingestion.core.landing import read_batches

    silo = Silo.connect(provision(with_vpc=False))
    return list(read_batches(silo.store, silo.provider, "aws", dataset, trust))


def _dead_letter_reasons() -> Counter[str]:
    from ingestion.aws.ingest import Silo
    from ingestion.aws.provision import provision
    from ingestion.core.landing import read_deadletters

    silo = Silo.connect(provision(with_vpc=False))
    return Counter(f"{d.field}: {d.reason}" for d in read_deadletters(silo.store, silo.provider, "aws"))


def _scan(records: list[Record], seed: int) -> dict[str, Any]:
    from ingestion.arrays import RecordArrays
    from poisoning_detection.api import scan

    a = RecordArrays.of(records)
    return scan(a.x, a.y, ids=a.ids, producers=a.producers, seed=seed).model_dump()


def _rotate_kms() -> str:
    from encryption.rotation import rotate_key_on_demand, rotation_status
    from ingestion.aws.clients import client
    from ingestion.aws.provision import provision

    resources = provision(with_vpc=False)
    kms = client("kms")
    rotate_key_on_demand(kms, resources.key_id)
    return f"{len(rotation_status(kms, resources.key_id)['rotations'])} rotation(s) on {resources.key_alias}"


def run(clean: int = 0, poison: int = 16, seed: int = 0) -> CaseResult:
    """Attack, detect, mitigate, re-ingest. ``clean=0`` sends the silo's whole training share once."""
    from ingestion.aws.ingest import run_ingest
    from ingestion.samples import generate_records, silo_share
    from lab.localcloud import local_cloud

    result = CaseResult(NAME)
    clean = clean or len(silo_share("aws"))
    from lab.trust import ensure_enrolled

    ensure_enrolled(HONEST, "aws")
    register_producer(ATTACKER)
    honest = generate_records("aws", clean, seed=seed, producer=HONEST)
    trust = TrustStore.from_dir()  # what every reader trusts: the operator's store
    bad = poisoned_records(poison, seed + 1)
    bad_ids = {r.id for r in bad}
    lines = [r.to_json().encode() for r in honest + bad]
    random.Random(seed).shuffle(lines)
    out = work_dir(NAME)

    with local_cloud("aws"):
        # 1. the attack: both keys trusted, everything lands
        before, _ = run_ingest(lines, dataset=DATASET, do_reset=True, with_vpc=False, trust=trust)
        landed = _landed(DATASET, trust)
        by_producer = Counter(r.producer for r in landed)
        result.evidence["attack"] = {"sent": before.sent, "landed": before.landed,
                                     "dead_lettered": before.dead_lettered, "verified": before.verified,
                                     "landed_by_producer": dict(by_producer)}
        result.check("the forged records are validly signed, so they land", before.verified
                     and by_producer.get(ATTACKER) == poison, f"{poison} from {ATTACKER}", dict(by_producer))

        # 2. detection over the landed (decrypted, re-verified) data
        report = _scan(landed, seed)
        flagged = set(report["flagged"])
        hit = len(flagged & bad_ids)
        recall, precision = hit / poison, hit / max(len(flagged), 1)
        result.evidence["detection"] = {
            "risk_score": report["risk_score"], "flagged": len(flagged), "flagged_poison": hit,
            "recall": round(recall, 3), "precision": round(precision, 3),
            "compromised_producers": report["compromised_producers"], "producers": report["producers"],
            "suspected": [{k: p[k] for k in ("source", "target", "count")} for p in report["suspected"]]}
        result.check("the detector flags most of the poison", recall >= 0.5, "recall >= 0.5", round(recall, 3))
        result.check("provenance names the stolen key", report["compromised_producers"] == [ATTACKER],
                     f"[{ATTACKER!r}]", report["compromised_producers"])

        # 3. mitigation: quarantine, revoke, rotate
        quarantine = out / "quarantine.json"
        quarantine.write_text(json.dumps(sorted(flagged), indent=1))
        revoked_at = str(revoke_producer(ATTACKER))
        fresh = reason_in_fresh_process(bad[0].to_json().encode())
        result.check("a fresh process refuses the revoked producer", fresh == REVOKED_PRODUCER,
                     REVOKED_PRODUCER, fresh)
        rotation = _rotate_kms()
        result.evidence["mitigation"] = {"quarantined_ids": len(flagged), "quarantine_file": str(quarantine),
                                         "revoked": ATTACKER, "revocation_record": revoked_at,
                                         "kms": rotation}

        # 4. re-ingest the same stream content: the consumer loads trust from the store (revocation included)
        trust = TrustStore.from_dir()
        after, _ = run_ingest(lines, dataset=DATASET, do_reset=True, with_vpc=False)
        relanded = [r for r in _landed(DATASET, trust) if r.id not in flagged]
        fields = _dead_letter_reasons()
        after_by_producer = Counter(r.producer for r in relanded)
        result.evidence["reingest"] = {"sent": after.sent, "landed": after.landed,
                                       "dead_lettered": after.dead_lettered, "verified": after.verified,
                                       "dead_letter_reasons": dict(fields),
                                       "training_set_after_quarantine": len(relanded),
                                       "landed_by_producer": dict(after_by_producer)}
        expected_letters = Counter({f"producer: {REVOKED_PRODUCER}": poison})
        result.check("the revoked producer's records are dead-lettered", after.verified
                     and after.dead_lettered == poison and fields == expected_letters,
                     f"{poison} dead letters, 'producer: {REVOKED_PRODUCER}'", dict(fields))
        result.check("nothing from the revoked producer lands", after_by_producer.get(ATTACKER, 0) == 0
                     and after.landed == clean, f"0 from {ATTACKER}, {clean} landed",
                     f"{after_by_producer.get(ATTACKER, 0)} from {ATTACKER}, {after.landed} landed")

    # 5. the cleaned set scanned again
    rescan = _scan(relanded, seed)
    result.evidence["rescan"] = {"risk_score": rescan["risk_score"], "flagged": len(rescan["flagged"]),
                                 "compromised_producers": rescan["compromised_producers"]}
    result.check("the cleaned set no longer implicates a producer", rescan["compromised_producers"] == []
                 and rescan["risk_score"] < report["risk_score"], "no producer, lower risk score",
                 f"{rescan['compromised_producers']}, risk {report['risk_score']} -> {rescan['risk_score']}")
    return result
