"""Where validated records and dead letters land, and how they are sealed.

Layout (docs/DEVELOPING.md, the same for every cloud)::

    raw/silo=<silo>/dataset=<dataset>/batch=<batch_id>.jsonl.env
    deadletter/silo=<silo>/batch=<batch_id>.jsonl.env

Each object is JSON Lines, envelope-encrypted (encryption.envelope) with the
context ``{"silo", "dataset", "batch"}``: a batch's bytes cannot be decrypted as
another batch or dataset. ``batch_id`` comes from the stream position, so
landing the same position again overwrites the same object, never adds one.
Readers decrypt and re-verify every signature: storage is not trusted either.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from encryption.envelope import decrypt, encrypt
from encryption.providers.base import KeyProvider
from lab.storage import ObjectStore
from ingestion.core.validate import DeadLetter
from ingestion.records import Record, RecordError, TrustStore, parse_record

BATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
DEADLETTER_DATASET = "deadletter"
SUFFIX = ".jsonl.env"


def _check_part(name: str, value: str) -> str:
    if not BATCH_ID_PATTERN.fullmatch(value) or ".." in value:
        raise ValueError(f"unsafe {name} {value!r} for an object key")
    return value


def batch_prefix(silo: str, dataset: str) -> str:
    return f"raw/silo={_check_part('silo', silo)}/dataset={_check_part('dataset', dataset)}/"


def deadletter_prefix(silo: str) -> str:
    return f"deadletter/silo={_check_part('silo', silo)}/"


def batch_key(silo: str, dataset: str, batch_id: str) -> str:
    """Object key of one landed batch."""
    return f"{batch_prefix(silo, dataset)}batch={_check_part('batch id', batch_id)}{SUFFIX}"


def deadletter_key(silo: str, batch_id: str) -> str:
    """Object key of the dead letters read in one batch."""
    return f"{deadletter_prefix(silo)}batch={_check_part('batch id', batch_id)}{SUFFIX}"


def batch_id_of(key: str) -> str:
    """The batch id inside an object key written by this module."""
    name = key.rsplit("/", 1)[-1]
    if not (name.startswith("batch=") and name.endswith(SUFFIX)):
        raise ValueError(f"not a batch object key: {key!r}")
    return name[len("batch=") : -len(SUFFIX)]


def context(silo: str, dataset: str, batch_id: str) -> dict[str, str]:
    """The encryption context bound to one object."""
    return {"silo": silo, "dataset": dataset, "batch": batch_id}


def _seal(lines: Iterable[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def write_batch(
    store: ObjectStore, provider: KeyProvider, silo: str, dataset: str, batch_id: str, records: Sequence[Record]
) -> str:
    """Encrypt records as JSON Lines and put them under their batch key; return the key."""
    return write_lines(store, provider, silo, dataset, batch_id, [r.to_json().encode() for r in records])


def write_lines(
    store: ObjectStore, provider: KeyProvider, silo: str, dataset: str, batch_id: str, lines: Sequence[bytes]
) -> str:
    """:func:`write_batch` for records already serialised (``Accepted.line``: canonical JSON, one per record)."""
    key = batch_key(silo, dataset, batch_id)
    blob = encrypt(b"".join(line + b"\n" for line in lines), provider, context(silo, dataset, batch_id))
    store.put(key, bytes(blob))
    return key


def write_deadletters(
    store: ObjectStore, provider: KeyProvider, silo: str, batch_id: str, letters: Sequence[DeadLetter]
) -> str:
    """Encrypt dead letters (they hold raw, possibly sensitive bytes) and land them; return the key."""
    key = deadletter_key(silo, batch_id)
    blob = encrypt(_seal(d.to_json() for d in letters), provider, context(silo, DEADLETTER_DATASET, batch_id))
    store.put(key, bytes(blob))
    return key


def _open(store: ObjectStore, provider: KeyProvider, key: str, silo: str, dataset: str) -> list[bytes]:
    plain = decrypt(store.get(key), provider, context(silo, dataset, batch_id_of(key)))
    return [line for line in bytes(plain).split(b"\n") if line]


def read_batch(
    store: ObjectStore, provider: KeyProvider, key: str, silo: str, dataset: str, trust: TrustStore,
    untrusted: list[Record] | None = None,
) -> list[Record]:
    """Decrypt one batch and re-verify each record (RecordError / EnvelopeError on any fault).

    With ``untrusted`` (a list), records of a producer the trust store no longer holds
    (revoked since landing, or never enrolled here) go there instead of failing the read:
    a trainer leaves them out and says how many. A bad signature of a trusted producer
    still fails: that is tampering, not a revocation."""
    records = [parse_record(line) for line in _open(store, provider, key, silo, dataset)]
    kept: list[Record] = []
    for record in records:
        try:
            trust.verify(record, silo)
        except RecordError as exc:
            if untrusted is None or exc.field != "producer":
                raise
            untrusted.append(record)
            continue
        kept.append(record)
    return kept


def read_batches(
    store: ObjectStore, provider: KeyProvider, silo: str, dataset: str, trust: TrustStore | None = None,
    untrusted: list[Record] | None = None,
) -> Iterator[Record]:
    """Every landed record of a silo's dataset, decrypted and signature-checked, batch by batch."""
    trust = trust or TrustStore.from_dir()
    for key in store.list(batch_prefix(silo, dataset)):
        yield from read_batch(store, provider, key, silo, dataset, trust, untrusted)


def read_deadletters(store: ObjectStore, provider: KeyProvider, silo: str) -> Iterator[DeadLetter]:
    """Every dead letter of a silo, decrypted."""
    for key in store.list(deadletter_prefix(silo)):
        for line in _open(store, provider, key, silo, DEADLETTER_DATASET):
            yield DeadLetter.from_json(line)
