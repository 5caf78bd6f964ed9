"""Each client's data: its silo's records only, partitioned deterministically by seed.

Source of a silo's records is a function ``(silo) -> SiloData``, so the end-to-end
scenario can swap it (e.g. for a quarantined dataset). Two sources ship:

* ``landed_source(root)``: the silo's landed, envelope-encrypted batches under a landing
  root, decrypted through the silo's key provider and re-verified by
  ``ingestion.core.landing.read_batches`` (the ingestion part's reader).
* ``packaged_source``: the default offline data, sklearn's digits (shipped inside the
  package, no download), split across the three silos by seed.

The held-out test split never reaches a client: the server evaluates on it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lab.cli import LabError

SILOS: tuple[str, ...] = ("aws", "azure", "gcp")

DATASET = "digits"


@dataclass(frozen=True)
class SiloData:
    """Features (N x 64 float32 in [0, 1]), labels (N) and record ids (N) of one silo or client."""

    x: np.ndarray
    y: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: np.ndarray) -> SiloData:
        return SiloData(self.x[index], self.y[index], self.ids[index])


DataSource = Callable[[str], SiloData]


@lru_cache(maxsize=1)
def _digits_split() -> tuple[SiloData, SiloData]:
    """Digits, scaled to [0, 1], split into (train, test) with a fixed seed."""
    from sklearn.datasets import load_digits

    from ingestion.samples import holdout_split  # one split for the whole lab: test images are never ingested

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    ids = np.array([f"digits-{i:04d}" for i in range(len(y))])
    tr, te = holdout_split()
    full = SiloData(x, y, ids)
    return full.take(tr), full.take(te)


def test_set() -> SiloData:
    """The server's held-out evaluation set (never given to a client)."""
    return _digits_split()[1]


def packaged_source(silo: str) -> SiloData:
    """The default silo data: the same share of the digits training split that the silo's
    producers send (``ingestion.samples.silo_share``), read straight from the package."""
    from sklearn.datasets import load_digits

    from ingestion.samples import silo_share

    check_silo(silo)
    digits = load_digits()
    share = np.sort(silo_share(silo))
    x = (digits.data[share] / 16.0).astype(np.float32)
    ids = np.array([f"{silo}-digits-{i:04d}" for i in share])
    return SiloData(x, digits.target[share].astype(np.int64), ids)


def landed_source(root: str, dataset: str = DATASET) -> DataSource:
    """A source reading the silo's landed encrypted batches under a LocalDirStore root."""

    def load(silo: str) -> SiloData:
        check_silo(silo)
        try:
            from encryption.errors import EnvelopeError
            from encryption.providers.local import LocalKeyProvider
            from ingestion.core.landing import read_batches
            from lab.storage import LocalDirStore
        except ImportError as exc:
            raise LabError(f"landed data needs the ingestion and encryption parts ({exc.name} missing)") from None
        try:
            records = list(read_batches(LocalDirStore(root), LocalKeyProvider(), silo, dataset))
        except EnvelopeError as exc:  # missing key, tampered batch: one line for the student, never a traceback
            raise LabError(f"cannot read the landing for silo={silo} under {root}: {exc}") from None
        if not records:
            raise LabError(f"no landed records for silo={silo} dataset={dataset} under {root}")
        if any(r.silo != silo for r in records):
            raise LabError(f"landing for silo={silo} holds another silo's records")
        x = np.array([r.features for r in records], dtype=np.float32)
        y = np.array([r.label for r in records], dtype=np.int64)
        return SiloData(x, y, np.array([r.id for r in records]))

    return load


def check_data(data: SiloData, silo: str, parts: int = 1) -> SiloData:
    """Refuse silo data that would crash a client inside the simulation or silently train on garbage.

    Checked before any client starts, so a bad data source fails with one line naming the
    problem instead of a Ray worker traceback (wrong width, labels the model has no output
    for) or a run that "succeeds" with NaN weights.
    """
    from securefl.task import NUM_CLASSES, NUM_FEATURES  # the model's input width and outputs

    x, y, ids = np.asarray(data.x), np.asarray(data.y), np.asarray(data.ids)
    where = f"silo {silo}"
    if len(y) < parts:
        raise LabError(f"{where} has {len(y)} record(s) for {parts} client(s); every client needs data")
    if x.ndim != 2 or x.shape[1] != NUM_FEATURES:
        raise LabError(f"{where}: x must be N x {NUM_FEATURES} features, got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x) or len(ids) != len(x):
        raise LabError(f"{where}: x, y and ids must have one row per record (x {x.shape}, y {y.shape}, ids {ids.shape})")
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise LabError(f"{where}: x must be finite floats (no NaN or inf)")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= NUM_CLASSES:
        raise LabError(f"{where}: labels must be integers in [0, {NUM_CLASSES - 1}], got {y.dtype} "
                       f"in [{y.min()}, {y.max()}]")
    if len(set(map(str, ids))) != len(ids):
        raise LabError(f"{where}: record ids must be unique")
    return data


def check_silo(silo: str) -> str:
    if silo not in SILOS:
        raise LabError(f"unknown silo {silo!r}; expected one of {', '.join(SILOS)}")
    return silo


def silo_of(client: int) -> str:
    """Clients are dealt to silos round-robin: client 0 -> aws, 1 -> azure, 2 -> gcp, 3 -> aws..."""
    return SILOS[client % len(SILOS)]


def clients_of(silo: str, num_clients: int) -> list[int]:
    return [c for c in range(num_clients) if silo_of(c) == silo]


def partition(data: SiloData, parts: int, how: str, alpha: float, seed: int) -> list[np.ndarray]:
    """Indices of each part: IID (shuffled equal split) or Dirichlet(alpha) label skew."""
    rng = np.random.default_rng(seed)
    if how == "iid":
        return [np.sort(p) for p in np.array_split(rng.permutation(len(data)), parts)]
    if how != "dirichlet":
        raise LabError(f"unknown partition {how!r}")
    buckets: list[list[int]] = [[] for _ in range(parts)]
    for label in np.unique(data.y):
        idx = rng.permutation(np.flatnonzero(data.y == label))
        shares = rng.dirichlet(np.full(parts, alpha))
        cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(int)
        for bucket, chunk in zip(buckets, np.split(idx, cuts)):
            bucket.extend(chunk.tolist())
    for b in range(parts):  # no empty client: borrow one example from the largest part
        if not buckets[b]:
            largest = max(range(parts), key=lambda i: len(buckets[i]))
            buckets[b].append(buckets[largest].pop())
    return [np.sort(np.array(b, dtype=np.int64)) for b in buckets]


def client_data(client: int, num_clients: int, how: str, alpha: float, seed: int,
                source: DataSource = packaged_source) -> SiloData:
    """The data of one client: its share of its own silo's records (nothing else is read)."""
    silo = silo_of(client)
    silo_clients = clients_of(silo, num_clients)
    records = check_data(source(silo), silo, len(silo_clients))
    parts = partition(records, len(silo_clients), how, alpha, seed)
    return records.take(parts[silo_clients.index(client)])
