"""Input-space nearest neighbours: every k-NN question of a scan answered from one pass of distances.

A scan asks two kinds of k-NN question in input space, where a few trigger pixels barely
move distances: the *leave-one-out* vote of every sample (what it looks like, ignoring its
own label) and, for each candidate cluster or trigger group, the vote of a k-NN that
*excludes the whole group* (exclusionary reclassification: a group of triggered records is
closer to itself than to anything else, so its members must not vote for each other).
On 5,000 MNIST images that was ~250 brute-force searches over the same pairs (one sklearn
search, a refit per small cluster, a distance block per class); here the squared
distances between all samples are computed once, in blocks of float32 matrix products, and
each sample keeps a sorted shortlist of its nearest samples (0.6-0.7 s for 5,000 MNIST
images); a question skips the excluded entries of each shortlist and takes the first k
left. Only a row whose shortlist is mostly excluded (a member of a large, tight group) has
its distances computed again. sklearn's `NearestNeighbors` cannot exclude a different set per query without
refitting, hence this small class.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

#: Distance blocks hold at most this many float32 entries (64 MB).
BLOCK_CELLS = 16_000_000
#: How many nearest samples are kept per row; a question that excludes more of them than
#: this leaves fewer than k recomputes that row's distances (counted in `recomputed`).
SHORTLIST = 128


class Neighbours:
    """k nearest neighbours in input space (squared Euclidean), excluding the rows a question names."""

    def __init__(self, x: np.ndarray, y: np.ndarray, k: int = 10, shortlist: int = SHORTLIST,
                 block_cells: int = BLOCK_CELLS) -> None:
        self.y = np.asarray(y)
        self.k = k
        self.n_classes = int(self.y.max()) + 1
        self.block_cells = block_cells
        self.recomputed = 0
        self._flat = torch.from_numpy(np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32))
        self._sq = (self._flat * self._flat).sum(1)
        n = len(self.y)
        width = min(shortlist, n)
        self._order = np.empty((n, width), dtype=np.int64)
        for pos, block in self._blocks(np.arange(n)):
            self._order[pos] = torch.topk(block, width, dim=1, largest=False).indices.numpy()

    def _blocks(self, rows: np.ndarray) -> Iterator[tuple[slice, torch.Tensor]]:
        """(position in rows, the squared distances from those rows to every sample)."""
        step = max(1, self.block_cells // max(len(self.y), 1))
        for start in range(0, len(rows), step):
            part = torch.from_numpy(np.ascontiguousarray(rows[start:start + step]))
            q = self._flat[part]
            block = self._sq[part][:, None] - 2.0 * (q @ self._flat.T) + self._sq[None, :]
            yield slice(start, start + len(part)), block

    def nearest(self, rows: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """Indices of the k nearest samples to each of `rows`, in distance order, never one of
        `exclude` (a whole group: exclusionary) and, when `exclude` is None, never the row itself
        (leave-one-out). Fewer than k columns when fewer samples are left."""
        rows = np.asarray(rows, dtype=np.int64)
        banned = np.zeros(len(self.y), bool)
        if exclude is not None:
            banned[exclude] = True
        k = min(self.k, len(self.y) - (int(banned.sum()) if exclude is not None else 1))
        out = np.empty((len(rows), max(k, 0)), dtype=np.int64)
        if k < 1 or not len(rows):
            return out
        cand = self._order[rows]
        ok = ~banned[cand] if exclude is not None else cand != rows[:, None]
        taken = np.cumsum(ok, axis=1)
        enough = taken[:, -1] >= k
        keep = ok[enough] & (taken[enough] <= k)
        out[enough] = cand[enough][keep].reshape(-1, k)  # row-major: each row's first k, nearest first
        short = np.flatnonzero(~enough)
        self.recomputed += len(short)
        for pos, block in self._blocks(rows[short]):
            if exclude is not None:
                block[:, torch.from_numpy(banned)] = torch.inf
            else:
                block[torch.arange(len(block)), torch.from_numpy(rows[short][pos])] = torch.inf
            out[short[pos]] = torch.topk(block, k, dim=1, largest=False).indices.numpy()
        return out
    def counts(self, nearest: np.ndarray) -> np.ndarray:
        """Per row, how many of its neighbours carry each label (rows × classes)."""
        return (self.y[nearest][:, :, None] == np.arange(self.n_classes)).sum(1)

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(majority label of each sample's neighbours, the share voting for it, the share
        carrying the sample's own label), the sample itself never voting."""
        nearest = self.nearest(np.arange(len(self.y)))
        counts = self.counts(nearest)
        k = max(nearest.shape[1], 1)
        return counts.argmax(1), counts.max(1) / k, counts[np.arange(len(self.y)), self.y] / k

    def excluded_votes(self, members: np.ndarray, also: np.ndarray | None = None) -> np.ndarray:
        """Exclusionary reclassification: the majority label of each member's k nearest samples
        outside `members` and outside `also` (other rows that must not vote), their own labels when
        nothing is left outside."""
        members = np.asarray(members, dtype=np.int64)
        banned = members if also is None else np.union1d(members, np.asarray(also, dtype=np.int64))
        nearest = self.nearest(members, exclude=banned)
        if not nearest.shape[1]:
            return self.y[members]
        return self.counts(nearest).argmax(1)
