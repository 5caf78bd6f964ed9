"""Each client's data: its silo's records only, partitioned deterministically by seed.

Source of a silo's records is a function ``(silo) -> SiloData``, so the end-to-end
scenario can swap it. Three sources ship:

* ``LandingSource``: the silos' landings on their clouds (``run.py --from-landings``,
  ``make demo``), read once in the driver through ``ingestion.landed.read_landed``:
  S3 / Blob / GCS through each cloud's SDK, decrypted with KMS / Key Vault / Cloud KMS,
  every signature re-checked against the trust store, quarantined ids left out. It
  holds plain arrays, so Flower's worker processes can unpickle it.
* ``landed_source(root)``: batches sealed with the local key under a LocalDirStore root
  (run-config ``data-root``).
* ``packaged_source``: the default offline data, sklearn's digits (``lab.digits``, shipped
  inside the package, no download), each silo's fixed share.

The held-out test split never reaches a client: the server evaluates on it.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np

from ingestion.arrays import RecordArrays
from lab import digits
from lab.cli import LabError
from lab.silos import SILOS
from lab.silos import check_silo as silos_check

DATASET = "digits"

#: A silo's (or a client's) data: x (N x 64 float32 in [0, 1]), y (N), ids (N), producers.
SiloData = RecordArrays

DataSource = Callable[[str], SiloData]


def test_set() -> SiloData:
    """The server's held-out evaluation set (never given to a client)."""
    x, y = digits.test_images()
    test = digits.holdout_split()[1]
    return SiloData(x, y, np.array([f"digits-{i:04d}" for i in test]))


def packaged_source(silo: str) -> SiloData:
    """The default silo data: the same share of the digits training split that the silo's
    producers send (``lab.digits.silo_share``), read straight from the package."""
    check_silo(silo)
    x, y = digits.pixels()
    share = np.sort(digits.silo_share(silo))
    return SiloData(x[share], y[share], np.array([f"{silo}-digits-{i:04d}" for i in share]))


class LandingSource:
    """The silos' landed, verified, quarantine-filtered records, read once in the driver."""

    def __init__(self, landed: Mapping[str, Any], dataset: str = DATASET) -> None:
        """``landed``: silo -> ``ingestion.landed.LandedSet`` (what :meth:`read` builds)."""
        self.silos = tuple(check_silo(s) for s in landed)
        self.dataset = dataset
        self.data: dict[str, SiloData] = {s: d.arrays for s, d in landed.items()}
        self.counts: dict[str, dict[str, Any]] = {s: d.counts() for s, d in landed.items()}

    @classmethod
    def read(cls, silos: Sequence[str] = SILOS, dataset: str = DATASET, quarantine: bool = True,
             trust: Any = None) -> LandingSource:
        """Read every silo's landing now (through ``ingestion.landed.read_landed``)."""
        from ingestion.landed import read_landed

        return cls({s: read_landed(check_silo(s), dataset, trust=trust, quarantine=quarantine) for s in silos},
                   dataset)

    def __call__(self, silo: str) -> SiloData:
        if silo not in self.data:
            raise LabError(f"silo {silo} is not part of this run (silos: {', '.join(self.silos)})")
        return self.data[silo]

    def without(self, ids: Collection[str]) -> LandingSource:
        """The same landings with some more ids left out (the scenario's no-attack reference)."""
        out = LandingSource({}, self.dataset)
        out.silos = self.silos
        out.data = {s: d.without(ids) for s, d in self.data.items()}
        out.counts = {s: {**c, "used": len(out.data[s])} for s, c in self.counts.items()}
        return out

    def describe(self) -> dict[str, Any]:
        return {"data_source": "landings", "dataset": self.dataset, "silos": dict(self.counts)}


def describe_source(source: DataSource, data_root: str = "") -> dict[str, Any]:
    """What ``fl_run.json`` says about where the training data came from."""
    describe = getattr(source, "describe", None)
    if callable(describe):
        return describe()
    if source is packaged_source:
        return {"data_source": "packaged", "dataset": DATASET}
    if data_root:
        return {"data_source": "data-root", "root": data_root}
    return {"data_source": getattr(source, "__name__", type(source).__name__)}


def source_silos(source: DataSource) -> tuple[str, ...]:
    """The silos a source serves (a subset with ``--silos``; all three otherwise)."""
    return tuple(getattr(source, "silos", SILOS))


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
        return RecordArrays.of(records)

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
    """``lab.silos.check_silo``, failing as a one-line LabError (what the FL entry points print)."""
    try:
        return silos_check(silo)
    except ValueError as exc:
        raise LabError(str(exc)) from None


def silo_of(client: int, silos: Sequence[str] = SILOS) -> str:
    """Clients are dealt to silos round-robin: client 0 -> aws, 1 -> azure, 2 -> gcp, 3 -> aws..."""
    return silos[client % len(silos)]


def clients_of(silo: str, num_clients: int, silos: Sequence[str] = SILOS) -> list[int]:
    return [c for c in range(num_clients) if silo_of(c, silos) == silo]


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
    silos = source_silos(source)
    silo = silo_of(client, silos)
    silo_clients = clients_of(silo, num_clients, silos)
    records = check_data(source(silo), silo, len(silo_clients))
    parts = partition(records, len(silo_clients), how, alpha, seed)
    return records.take(parts[silo_clients.index(client)])
