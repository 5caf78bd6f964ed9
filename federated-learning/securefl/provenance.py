"""What a model signature binds, and the high-water mark that refuses rollbacks.

A signature alone says "the lab's key signed this", not "this is the model you should be
running". So the signed header also carries the run id, a digest of the run configuration,
a digest of the training data and a version number that only grows; and a reader keeps
the newest version it has accepted (sealed with the operator key, next to the trust store),
refusing anything older: an old, validly signed model copied over the current one (the
scenario's backdoored raw model, say) is refused.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lab.config import settings
from lab.sealed import SealedJson

LEDGER_NAME = "model_versions.json"


@dataclass(frozen=True)
class Provenance:
    """The facts a model's signature binds besides its bytes."""

    run_id: str
    config_sha256: str
    data_sha256: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def new_run_id() -> str:
    return uuid.uuid4().hex


def config_digest(run_config: Mapping[str, Any]) -> str:
    """SHA-256 of the run configuration as canonical JSON (keys sorted)."""
    return hashlib.sha256(json.dumps(dict(run_config), sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


def data_digest(source: Callable[[str], Any], silos: Iterable[str]) -> str:
    """SHA-256 over every silo's training data (ids, features, labels), in id order: the same
    records give the same digest, one changed, added or removed record gives another."""
    digest = hashlib.sha256()
    for silo in silos:
        data = source(silo)
        order = np.argsort(np.asarray(data.ids).astype(str), kind="stable")
        digest.update(f"silo={silo};n={len(order)}\n".encode())
        digest.update("\n".join(np.asarray(data.ids).astype(str)[order].tolist()).encode())
        digest.update(np.ascontiguousarray(np.asarray(data.x, dtype=np.float32)[order]).tobytes())
        digest.update(np.ascontiguousarray(np.asarray(data.y, dtype=np.int64)[order]).tobytes())
    return digest.hexdigest()


def memoised(source: Callable[[str], Any]) -> Callable[[str], Any]:
    """The source, loading each silo once (checking and digesting the data reads it only once)."""
    cache: dict[str, Any] = {}

    def load(silo: str) -> Any:
        if silo not in cache:
            cache[silo] = source(silo)
        return cache[silo]

    if hasattr(source, "silos"):  # a subset source (--silos) stays a subset
        load.silos = source.silos  # type: ignore[attr-defined]
    return load


class VersionLedger:
    """Issued and accepted model versions, sealed with the operator key."""

    def __init__(self, path: Path | None = None) -> None:
        self.sealed = SealedJson(path or settings().trust_dir / LEDGER_NAME)

    @staticmethod
    def _empty() -> dict[str, int]:
        return {"issued": 0, "accepted": 0}

    def next_version(self) -> int:
        """A version above every one issued or accepted so far (reserved at once)."""
        with self.sealed.update(self._empty) as body:
            body["issued"] = max(int(body["issued"]), int(body["accepted"])) + 1
            return int(body["issued"])

    def newest_accepted(self) -> int:
        return int(self.sealed.read(self._empty)["accepted"])

    def accept(self, version: int) -> None:
        with self.sealed.update(self._empty) as body:
            body["accepted"] = max(int(body["accepted"]), version)
