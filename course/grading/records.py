"""The grader's own records: fresh keys, fresh ids, and a truth file only the grader holds.

Every grading run makes new producer keys and random ids, so a copy cannot recognise the
grader's records or replay an earlier run's answer. The lines mix valid records with every
kind of hostile one the ingestion contract must dead-letter; ``truth`` says which is which
and what the dead letter must say.

Trust is operator configuration: the grader enrols its producers (each for its silo) in the
shared state's sealed trust store (``lab.trust.TrustFile``, what ``TrustStore.from_dir`` reads)
and revokes one of them after it signed its records. ``enrol`` / ``revoke`` are the only two
places that touch the trust store.
"""
from __future__ import annotations

import base64
import json
import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestion.records import MAX_RECORD_BYTES, SILOS, Record, sign_record

#: Hostile kinds the pipeline must keep out (not landed, dead-lettered); ``forged`` is ex01's alone.
PIPELINE_KINDS = ("unsigned", "bad-label", "nan-feature", "extra-field", "naive-time", "traversal-id",
                  "malformed", "duplicate", "oversize", "unknown-producer", "revoked-producer", "cross-silo")
#: What the dead letter of each kind must say: a regex over ``field: reason`` (lower case).
EXPECTED_REASON = {
    "forged": r"^signature:", "unsigned": r"^signature:", "bad-label": r"^label:", "nan-feature": r"^features:",
    "extra-field": r"extra", "naive-time": r"^timestamp:", "traversal-id": r"^id:", "malformed": r"json",
    "duplicate": r"duplicate", "oversize": r"oversize|too large|bytes|limit", "unknown-producer": r"unknown",
    "revoked-producer": r"revoked", "cross-silo": r"silo",
}


@dataclass(frozen=True)
class Hostile:
    kind: str
    id: str
    raw_b64: str


def enrol(state: Path, name: str, silo: str, key: Ed25519PrivateKey) -> None:
    """Trust ``name`` for ``silo`` in the state's sealed trust store."""
    from lab.trust import TrustFile

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    TrustFile(state).enroll(name, silo, raw)


def revoke(state: Path, name: str) -> None:
    """Revoke ``name`` for good (the store refuses its key from now on)."""
    from lab.trust import TrustFile

    TrustFile(state).revoke(name, "grader: revoked-producer case")


def _line(record: Record) -> bytes:
    return record.to_json().encode()


def make_records(state: Path, silo: str, n_valid: int, seed: int) -> tuple[list[bytes], dict[str, Any]]:
    """(lines to send, truth); ``state`` holds the trust store. The valid ones are signed by an enrolled producer of ``silo``."""
    rng = random.Random(seed)
    tag = f"{rng.getrandbits(32):08x}"
    keys = {role: Ed25519PrivateKey.generate() for role in ("good", "revoked", "unknown", "forger")}
    names = {role: f"{silo}-{role}-{tag}" for role in keys}
    for role in ("good", "revoked"):
        enrol(state, names[role], silo, keys[role])

    def record(role: str = "good", record_silo: str = silo) -> Record:
        return Record(id=f"g{tag}-{rng.getrandbits(40):010x}", silo=record_silo, producer=names[role],
                      timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
                      features=[round(rng.random(), 4) for _ in range(64)], label=rng.randrange(10))

    valid = [sign_record(record(), keys["good"]) for _ in range(n_valid)]
    hostile: list[tuple[str, str, bytes]] = []

    def body(rec: Record) -> dict[str, Any]:
        return json.loads(rec.to_json())

    def signed_body(**change: Any) -> dict[str, Any]:
        return {**body(sign_record(record(), keys["good"])), **change}

    forged = record()
    hostile.append(("forged", forged.id, _line(sign_record(forged, keys["forger"]).model_copy(
        update={"producer": names["good"]}))))
    unsigned = record()
    hostile.append(("unsigned", unsigned.id, _line(unsigned)))
    for kind, change in (("bad-label", {"label": -1}), ("extra-field", {"note": "x"}),
                         ("naive-time", {"timestamp": "2026-11-25T10:00:00"})):
        b = signed_body(**change)
        hostile.append((kind, b["id"], json.dumps(b, sort_keys=True, separators=(",", ":")).encode()))
    b = signed_body()
    hostile.append(("nan-feature", b["id"], json.dumps({**b, "features": [float("nan")] + b["features"][1:]},
                                                       sort_keys=True, separators=(",", ":")).encode()))
    b = signed_body(id=f"..{tag}")
    hostile.append(("traversal-id", b["id"], json.dumps(b, sort_keys=True, separators=(",", ":")).encode()))
    hostile.append(("malformed", f"malformed-{tag}", b'{"id": "malformed-' + tag.encode() + b'", "silo": '))
    hostile.append(("duplicate", valid[0].id, _line(valid[0])))
    big = sign_record(record(), keys["good"])
    hostile.append(("oversize", big.id, _line(big)[:-1] + b" " * MAX_RECORD_BYTES + b"}"))
    unknown = record("unknown")
    hostile.append(("unknown-producer", unknown.id, _line(sign_record(unknown, keys["unknown"]))))
    gone = record("revoked")
    hostile.append(("revoked-producer", gone.id, _line(sign_record(gone, keys["revoked"]))))
    other = next(s for s in SILOS if s != silo)
    crossed = record(record_silo=other)
    hostile.append(("cross-silo", crossed.id, _line(sign_record(crossed, keys["good"]))))
    revoke(state, names["revoked"])

    lines = [_line(r) for r in valid] + [raw for _, _, raw in hostile]
    order = list(range(len(lines)))
    rng.shuffle(order)
    # the duplicate must follow its original, or the original would be the one dead-lettered
    original, dup = 0, len(valid) + [k for k, _, _ in hostile].index("duplicate")
    if order.index(dup) < order.index(original):
        a, b2 = order.index(dup), order.index(original)
        order[a], order[b2] = order[b2], order[a]
    public = keys["good"].public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    truth = {"silo": silo, "producer": names["good"], "public_key_pem": public.decode(),
             "valid": [r.id for r in valid],
             "hostile": [asdict(Hostile(k, i, base64.b64encode(raw).decode())) for k, i, raw in hostile]}
    return [lines[i] for i in order], truth
