"""The quarantine list: records the detector flagged, which training must leave out.

One file per silo and dataset under the lab's state directory
(``lab.config.LabSettings.quarantine_dir``). ``detect.py --landing`` writes it;
every ``--from-landings`` training run (and ``make demo``) honours it. The list
remembers a digest of the landing it was computed from: a list made for another
landing (the silo re-ingested since) is refused with a one-line hint instead of
silently quarantining the wrong records.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.cli import LabError
from lab.config import settings
from lab.silos import check_silo


def landing_digest(ids: Iterable[str]) -> str:
    """A digest of which records a landing holds (order-independent)."""
    h = hashlib.sha256()
    for record_id in sorted(ids):
        h.update(record_id.encode() + b"\n")
    return h.hexdigest()


def quarantine_path(silo: str, dataset: str) -> Path:
    """Where the silo's quarantine list lives (the one place that decides it)."""
    check_silo(silo)
    if not dataset.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"unsafe dataset name {dataset!r}")
    return settings().quarantine_dir / f"{silo}-{dataset}.json"


@dataclass(frozen=True)
class Quarantine:
    """Flagged record id -> the producer that signed it, for one silo's landing."""

    silo: str
    dataset: str
    landing: str
    flagged: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.flagged)

    def to_json(self) -> dict[str, Any]:
        return {"silo": self.silo, "dataset": self.dataset, "landing_digest": self.landing,
                "source": self.source, "count": len(self.flagged),
                "producers": sorted(set(self.flagged.values())), "flagged": dict(sorted(self.flagged.items()))}


def write_quarantine(q: Quarantine) -> Path:
    """Replace the silo's list atomically (a scan of the whole landing supersedes the last one)."""
    path = quarantine_path(q.silo, q.dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(q.to_json(), indent=2))
    os.replace(tmp, path)
    return path


def load_quarantine(silo: str, dataset: str) -> Quarantine | None:
    """The silo's list, or None when no scan wrote one."""
    path = quarantine_path(silo, dataset)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return Quarantine(silo, dataset, str(data["landing_digest"]), dict(data["flagged"]), str(data.get("source", "")))
    except (ValueError, KeyError, TypeError):
        raise LabError(f"quarantine list {path} is damaged; re-run the scan "
                       f"(python poisoning-detection/detect.py --landing {silo} --out ...)") from None
