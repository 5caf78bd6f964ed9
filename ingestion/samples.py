"""Signed sample records for every silo, made from scikit-learn's bundled digits set.

The images come from ``lab.digits`` (the one module that loads, scales and splits
the packaged digits; nothing is downloaded). Each silo gets a
disjoint share of the images (a fixed split, independent of the seed), so the
federated story has three organisations holding different data. When more
records are asked for than a share holds, images are reused with a small,
deterministic augmentation (pixel noise), and their ids say so (``-aug<k>``).

Everything is deterministic by seed: the same call writes the same bytes
(Ed25519 signatures are deterministic too).

``invalid_examples`` makes the records a hostile or broken producer would send
(malformed, unsigned, wrongly signed, unknown producer, duplicate, oversize,
path-traversal id, NaN, extra field, non-UTF-8), each labelled with the field a
consumer must blame, for demos and tests.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestion.records import MAX_RECORD_BYTES, SILOS, Record, producer_signing_key, sign_record
from lab import digits
from lab.digits import SPLIT_SEED, TEST_FRACTION, holdout_split, test_images  # noqa: F401  (re-exported)

DATASETS: tuple[str, ...] = ("digits",)
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
NOISE_STD = 0.05


def default_producer(silo: str) -> str:
    """The producer each silo's scripts trust by default."""
    return f"{silo}-producer-a"


def silo_share(silo: str, dataset: str = "digits") -> np.ndarray:
    """Indices of the training images this silo owns (``lab.digits.silo_share``; disjoint across silos)."""
    _check(silo, dataset)
    return digits.silo_share(silo)


def _check(silo: str, dataset: str) -> None:
    if silo not in SILOS:
        raise ValueError(f"unknown silo {silo!r}; choose from {list(SILOS)}")
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {list(DATASETS)}")


def generate_records(
    silo: str,
    count: int,
    seed: int = 0,
    producer: str | None = None,
    dataset: str = "digits",
    key: Ed25519PrivateKey | None = None,
) -> list[Record]:
    """``count`` signed records of this silo's share; deterministic by seed."""
    _check(silo, dataset)
    if count < 0:
        raise ValueError("count must be >= 0")
    producer = producer or default_producer(silo)
    key = key or producer_signing_key(producer)
    x, y = digits.pixels()
    share = silo_share(silo, dataset)
    rng = np.random.default_rng(seed)
    order = share[rng.permutation(len(share))]
    records: list[Record] = []
    for i in range(count):
        round_, pos = divmod(i, len(order))
        index = int(order[pos])
        features = x[index]
        record_id = f"{silo}-{dataset}-{index:04d}"
        if round_:
            noise = np.random.default_rng([seed, round_, index]).normal(0.0, NOISE_STD, features.shape)
            features = np.clip(features + noise, 0.0, 1.0)
            record_id += f"-aug{round_}"
        record = Record(
            id=record_id,
            silo=silo,  # type: ignore[arg-type]
            producer=producer,
            timestamp=(EPOCH + timedelta(seconds=i)).isoformat(),
            features=[round(float(v), 4) for v in features],
            label=int(y[index]),
        )
        records.append(sign_record(record, key))
    return records


@dataclass(frozen=True)
class BadLine:
    """One invalid input line and the field a consumer must name when rejecting it."""

    kind: str
    raw: bytes
    field: str


def invalid_examples(valid: Sequence[Record], count: int, seed: int = 0) -> list[BadLine]:
    """``count`` invalid lines cycling through every kind of fault (needs >= 1 valid record)."""
    if not valid:
        raise ValueError("invalid examples are derived from valid records; generate some first")
    rogue = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # a key nobody trusts
    out: list[BadLine] = []
    for i in range(count):
        base = valid[(seed + i * 7) % len(valid)]
        body = json.loads(base.to_json())
        kind = FAULT_KINDS[i % len(FAULT_KINDS)]
        uid = f"{base.id}-bad{i}"
        out.append(_fault(kind, base, body, uid, rogue))
    return out


FAULT_KINDS: tuple[str, ...] = (
    "malformed-json",
    "unsigned",
    "wrong-signature",
    "unknown-producer",
    "duplicate",
    "oversize",
    "path-traversal-id",
    "nan-feature",
    "extra-field",
    "not-utf8",
)


def _dump(body: dict[str, object]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _fault(kind: str, base: Record, body: dict[str, object], uid: str, rogue: Ed25519PrivateKey) -> BadLine:
    if kind == "malformed-json":
        return BadLine(kind, _dump(body)[:-7], "")
    if kind == "unsigned":
        return BadLine(kind, _dump({**body, "id": uid, "signature": ""}), "signature")
    if kind == "wrong-signature":
        forged = base.model_copy(update={"id": uid})
        signature = base64.b64encode(rogue.sign(forged.signing_bytes())).decode()
        return BadLine(kind, _dump({**body, "id": uid, "signature": signature}), "signature")
    if kind == "unknown-producer":
        stranger = base.model_copy(update={"id": uid, "producer": "rogue-producer"})
        return BadLine(kind, sign_record(stranger, rogue).to_json().encode(), "producer")
    if kind == "duplicate":
        return BadLine(kind, base.to_json().encode(), "id")
    if kind == "oversize":
        return BadLine(kind, _dump({**body, "id": uid}) + b" " * MAX_RECORD_BYTES, "")
    if kind == "path-traversal-id":
        return BadLine(kind, _dump({**body, "id": "../../etc/passwd"}), "id")
    if kind == "nan-feature":
        features = list(base.features)
        features[0] = float("nan")
        return BadLine(kind, json.dumps({**body, "id": uid, "features": features}).encode(), "features")
    if kind == "extra-field":
        return BadLine(kind, _dump({**body, "id": uid, "comment": "smuggled"}), "comment")
    if kind == "not-utf8":
        return BadLine(kind, b'{"id": "\xff\xfe"}', "")
    raise ValueError(f"unknown fault kind {kind!r}")


def mixed_lines(valid: Sequence[Record], invalid: Sequence[BadLine], seed: int = 0) -> list[bytes]:
    """Valid and invalid lines interleaved deterministically; duplicates go last (after their original)."""
    lines: list[bytes] = [r.to_json().encode() for r in valid]
    rng = np.random.default_rng(seed + 1)
    for bad in invalid:
        if bad.kind != "duplicate":
            lines.insert(int(rng.integers(0, len(lines) + 1)), bad.raw)
    return lines + [bad.raw for bad in invalid if bad.kind == "duplicate"]


def write_jsonl(path: Path, lines: Iterable[bytes]) -> int:
    """Write one record per line (bytes as given, so faulty lines stay faulty). Returns the count."""
    from lab.cli import atomic_output

    n = 0
    with atomic_output(Path(path)) as tmp, open(tmp, "wb") as fh:  # a failed run leaves no half file
        for line in lines:
            if b"\n" in line:
                raise ValueError("a record line must not contain a newline")
            fh.write(line + b"\n")
            n += 1
    return n


def read_jsonl(path: Path) -> list[bytes]:
    """The raw lines of a JSONL file (no parsing: consumers validate)."""
    data = Path(path).read_bytes()
    return [line for line in data.split(b"\n") if line.strip()]


def write_invalid_examples(
    path: Path, silo: str, records: int, invalid: int, seed: int = 0, producer: str | None = None
) -> tuple[int, int]:
    """Write a mixed file; return (valid, invalid) counts for the caller to check against."""
    valid = generate_records(silo, records, seed=seed, producer=producer)
    bad = invalid_examples(valid, invalid, seed=seed)
    write_jsonl(path, mixed_lines(valid, bad, seed=seed))
    return len(valid), len(bad)


def schema_text() -> str:
    """The JSON Schema file's exact content (tests check the committed file is current)."""
    from ingestion.records import record_json_schema

    return json.dumps(record_json_schema(), indent=2, sort_keys=True) + "\n"


SCHEMA_PATH = Path(__file__).resolve().parent / "record.schema.json"


def export_schema(path: Path = SCHEMA_PATH) -> Path:
    """(Re)write ingestion/record.schema.json from the pydantic model."""
    path.write_text(schema_text())
    return path
