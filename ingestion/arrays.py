"""Records -> arrays: the one conversion every reader of landed data uses.

Federated clients, the detector and the end-to-end scenario all train or score on
arrays; they all get them from :meth:`RecordArrays.of`, so a record's features,
label, id and producer stay aligned row by row everywhere.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from ingestion.records import Record


@dataclass(frozen=True)
class RecordArrays:
    """Features (N x D float32), labels (N int64), record ids (N) and, when known, producers (N)."""

    x: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    producers: np.ndarray | None = None

    @classmethod
    def of(cls, records: Sequence[Record]) -> RecordArrays:
        """One row per record, in order (an empty list gives empty arrays)."""
        width = len(records[0].features) if records else 0
        return cls(np.array([r.features for r in records], dtype=np.float32).reshape(len(records), width),
                   np.array([r.label for r in records], dtype=np.int64),
                   np.array([r.id for r in records], dtype=str),
                   np.array([r.producer for r in records], dtype=str))

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: np.ndarray) -> RecordArrays:
        """The rows at ``index`` (indices or a boolean mask)."""
        return RecordArrays(self.x[index], self.y[index], self.ids[index],
                            None if self.producers is None else self.producers[index])

    def without(self, ids: Collection[str]) -> RecordArrays:
        """Every row whose id is not in ``ids`` (e.g. the quarantined records)."""
        drop = set(ids)
        return self.take(np.array([str(i) not in drop for i in self.ids], dtype=bool))
