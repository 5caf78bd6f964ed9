"""Signed sample records for every silo, made from scikit-learn's bundled digits set.

Why digits: ``sklearn.datasets.load_digits`` ships inside the package (1,797
8x8 images, labels 0-9), so the lab never downloads data. Each silo gets a
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
from functools import lru_cache
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestion.records import MAX_RECORD_BYTES, SILOS, Record, producer_signing_key, sign_record

DATASETS: tuple[str, ...] = ("digits",)
#: Seed of the silo split: fixed, so shares stay disjoint whatever --seed is used.
SPLIT_SEED = 20261125
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
NOISE_STD = 0.05
#: Share of the images held out for evaluation (never ingested).
TEST_FRACTION = 0.2


def default_producer(silo: str) -> str:
    """The producer each silo's scripts trust by default."""
    return f"{silo}-producer-a"


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float64)  # pixel intensities 0..16 -> [0, 1]
    return x, bunch.target.astype(np.int64)


@lru_cache(maxsize=1)
def holdout_split() -> tuple[np.ndarray, np.ndarray]:
    """(train, test) image indices. The test images are never sent by any producer: they are
    the held-out evaluation set of the federated model and of the attack-success measurement."""
    from sklearn.model_selection import train_test_split

    _, y = _digits()
    train, test = train_test_split(np.arange(len(y)), test_size=TEST_FRACTION, random_state=0, stratify=y)
    return np.sort(train), np.sort(test)


def test_images() -> tuple[np.ndarray, np.ndarray]:
    """The held-out images (features in [0, 1], labels)."""
    x, y = _digits()
    test = holdout_split()[1]
    return x[test], y[test]


def silo_share(silo: str, dataset: str = "digits") -> np.ndarray:
    """Indices of the training images this silo owns (disjoint across silos, fixed order)."""
    _check(silo, dataset)
    train = holdout_split()[0]
    order = train[np.random.default_rng(SPLIT_SEED).permutation(len(train))]
    return np.array_split(order, len(SILOS))[SILOS.index(silo)]


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
    x, y = _digits()
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
