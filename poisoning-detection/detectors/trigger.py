"""Patch-trigger evidence in input space: pixels that poisoned records share and clean ones lack.

A patch trigger (BadNets) is a few pixels the attacker sets bright in every poisoned
record; the records are otherwise images of their source class. Two uses:
- `shared_pixels` / `carriers` — corroborate a suspicious activation cluster: a clean
  sub-style that merely resembles another class (a '1' with a base, like a '2') keeps its
  strokes where that class has strokes too and shares no such pixels (measured: clean
  look-alike clusters on digits shared 0-1, triggered ones 2-4);
- `trigger_groups` — propose poison groups the model's clusters miss (7 -> 1 on 8×8
  digits: the triggered '7's cluster with clean '1's).
Written here because no maintained library offers trigger localisation on raw inputs
without a trained generator (Neural Cleanse-style reverse engineering costs a retrain-scale
optimisation per class); these are a few quantiles and boolean masks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: How far above the reference's 90th percentile (share of the value range) a lit pixel is.
MARGIN = 0.25
QUANTILE = 0.9
MIN_TRIGGER_PIXELS = 2
#: Smallest trigger group (HDBSCAN's smallest cluster); a pixel is paired into trigger groups only
#: when lit in at least this many records of its class, since a rarer pair can form no group.
MIN_GROUP = 5


def lit_threshold(x: np.ndarray, members: np.ndarray, reference: np.ndarray) -> np.ndarray | None:
    """Per-pixel brightness above which a pixel is lit compared with `reference` (a mask; the
    class the records were made from) *and* with all the rest of the data (a trigger goes
    where clean records of any class rarely have ink). None when there is nothing to compare."""
    flat = x.reshape(len(x), -1)
    outside = np.ones(len(x), bool)
    outside[members] = False
    ref = reference & outside
    if not ref.any() or not len(members):
        return None
    span = float(flat.max() - flat.min()) or 1.0
    high = np.maximum(_column_quantile(flat[ref]), _column_quantile(flat[outside]))
    return high + MARGIN * span


def _column_quantile(rows: np.ndarray) -> np.ndarray:
    """Per-pixel QUANTILE over rows, on a transposed copy so each pixel's values are contiguous
    (same values as ``axis=0``; re-measured on 26 Nov: 5-15 % faster on MNIST-sized blocks, not
    the 3x an earlier, noisier measurement suggested)."""
    return np.quantile(np.ascontiguousarray(rows.T), QUANTILE, axis=1)


class LitPixels:
    """The trigger evidence of one group against one reference: the lit threshold (two per-pixel
    quantiles, the costly part) is computed once for both questions asked of it."""

    def __init__(self, x: np.ndarray, members: np.ndarray, reference: np.ndarray) -> None:
        self.flat = x.reshape(len(x), -1)
        self.members = members
        self.threshold = lit_threshold(x, members, reference)

    def shared(self) -> list[int]:
        """Pixels (flat indices) where the members' median is lit (see `lit_threshold`)."""
        if self.threshold is None:
            return []
        centre = np.median(self.flat[self.members], axis=0)
        return np.flatnonzero(centre > self.threshold).tolist()

    def carriers(self, pixels: list[int]) -> np.ndarray:
        """The members that actually carry the trigger: lit on at least two of `pixels` (all, if fewer)."""
        if self.threshold is None or not pixels:
            return self.members
        lit = self.flat[self.members][:, pixels] > self.threshold[pixels]
        return self.members[lit.sum(1) >= min(MIN_TRIGGER_PIXELS, len(pixels))]


def shared_pixels(x: np.ndarray, members: np.ndarray, reference: np.ndarray) -> list[int]:
    """`LitPixels.shared` for a one-off question."""
    return LitPixels(x, members, reference).shared()


def carriers(x: np.ndarray, members: np.ndarray, reference: np.ndarray, pixels: list[int]) -> np.ndarray:
    """`LitPixels.carriers` for a one-off question."""
    return LitPixels(x, members, reference).carriers(pixels)


@dataclass(frozen=True)
class TriggerGroup:
    """Records of one class that share two lit pixels; `pixel_share` is the larger share of the
    class in which either pixel is lit (the pair's rarity)."""

    members: np.ndarray
    pixel_share: float


def trigger_groups(x: np.ndarray, y: np.ndarray, c: int, max_pixels: int = 8,
                   max_share: float = 0.5) -> list[TriggerGroup]:
    """Candidate poison groups of class c: its records that share two pixels lit compared with
    the other classes. Pixels lit in at least `MIN_GROUP` records and at most `max_share` of the
    class are paired (a feature of the class itself is lit in nearly all of it), the `max_pixels`
    most frequent only, to bound the cost. Each group must still pass the caller's exclusionary
    and shared-pixel checks.

    The lower bound is a count, not a share of the class: the poison's size follows its *source*
    class, so a share of the target class misses a small attack on a larger target (breast cancer,
    5 % of the 162 malignant rows: 8 of the 293 benign rows, 2.7 %, under the 3 % used until Dec 2026)."""
    flat = x.reshape(len(x), -1)
    in_c = y == c
    if in_c.all():
        return []
    low = float(flat.min())
    span = float(flat.max() - low) or 1.0
    rows = flat[in_c]
    # a pixel's threshold is at least low + MARGIN·span, so a pixel lit in < MIN_GROUP records of
    # the class even against that floor can never be paired: its quantile is not computed
    # (on MNIST about half the pixels; same groups, half the cost)
    candidates = np.flatnonzero((rows > low + MARGIN * span).sum(0) >= MIN_GROUP)
    hot = np.zeros(rows.shape, bool)
    if len(candidates):
        threshold = _column_quantile(flat[~in_c][:, candidates]) + MARGIN * span
        hot[:, candidates] = rows[:, candidates] > threshold
    share = hot.mean(0)
    ranked = np.argsort(-share, kind="stable")[:max_pixels]  # stable: ties in the order of the pixels
    pixels = [p for p in ranked if hot[:, p].sum() >= MIN_GROUP and share[p] <= max_share]
    idx = np.flatnonzero(in_c)
    groups: dict[bytes, TriggerGroup] = {}
    for i, p in enumerate(pixels):
        for q in pixels[i + 1:]:
            members = idx[hot[:, p] & hot[:, q]]
            if MIN_GROUP <= len(members) < max_share * len(idx):
                key, rarity = members.tobytes(), float(max(share[p], share[q]))
                if key not in groups or rarity < groups[key].pixel_share:
                    groups[key] = TriggerGroup(members, rarity)
    return list(groups.values())
