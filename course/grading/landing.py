"""Read a silo's landing back with the grader's own code, record by record.

Connects through the cloud's SDK (``ingestion.silos.landing``, this checkout's code), takes
each object's bytes as stored, checks them as ciphertext (an envelope header the grader
parses, no record id in clear, the context hash of the object's own key, a nonce never
used twice), decrypts them under that context with this checkout's envelope code, and
re-verifies each record with the grader's trust store. One bad record never hides the
rest: every line is judged on its own.
"""
from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from encryption.context import context_sha256
from encryption.envelope import decrypt
from encryption.format import parse
from ingestion.core.landing import DEADLETTER_DATASET, batch_id_of, batch_prefix, context, deadletter_prefix
from ingestion.core.validate import DeadLetter
from ingestion.records import RecordError, TrustStore, parse_record


def _open(store: Any, provider: Any, key: str, silo: str, dataset: str, ids: list[str],
          at_rest: dict[str, int], nonces: Counter[bytes]) -> list[bytes] | None:
    blob = store.get(key)
    at_rest["objects"] += 1
    try:
        header, _ = parse(blob)
    except Exception:  # noqa: BLE001 - anything that is not an envelope counts against the copy
        at_rest["not_envelope"] += 1
        return None
    nonces[bytes(header.nonce)] += 1
    if any(i.encode() in blob for i in ids):
        at_rest["plaintext_ids"] += 1
    ctx = context(silo, dataset, batch_id_of(key))
    if header.context_sha256 != context_sha256(ctx):
        at_rest["wrong_context"] += 1
    try:
        plain = decrypt(blob, provider, ctx)
    except Exception:  # noqa: BLE001 - the grader's own decrypt refused it
        at_rest["undecryptable"] += 1
        return None
    return [line for line in bytes(plain).split(b"\n") if line]


def read_back(silo: str, dataset: str, trust: TrustStore, ids: list[str]) -> dict[str, Any]:
    """What landed (ids that verify, lines that do not), the dead letters, and the at-rest facts."""
    from ingestion.silos import landing

    where = landing(silo)
    store, provider = where.store, where.provider
    at_rest = {"objects": 0, "not_envelope": 0, "plaintext_ids": 0, "wrong_context": 0, "undecryptable": 0}
    nonces: Counter[bytes] = Counter()
    landed: list[str] = []
    unverified: list[str] = []
    for key in store.list(batch_prefix(silo, dataset)):
        for line in _open(store, provider, key, silo, dataset, ids, at_rest, nonces) or []:
            try:
                record = parse_record(line)
            except RecordError:
                unverified.append("<unparsable>")
                continue
            try:
                trust.verify(record)
                landed.append(record.id)
            except RecordError:
                unverified.append(record.id)
    letters: list[dict[str, str]] = []
    for key in store.list(deadletter_prefix(silo)):
        for line in _open(store, provider, key, silo, DEADLETTER_DATASET, [], at_rest, nonces) or []:
            try:
                d = DeadLetter.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue
            letters.append({"reason": d.reason, "field": d.field, "raw_b64": d.raw_b64})
    at_rest["reused_nonces"] = sum(n - 1 for n in nonces.values() if n > 1)
    return {"landed": landed, "unverified": unverified, "deadletters": letters, "at_rest": at_rest}


def raw_of(letter: dict[str, str]) -> bytes:
    try:
        return base64.b64decode(letter["raw_b64"])
    except ValueError:
        return b""
