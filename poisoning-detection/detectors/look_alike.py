"""Look-alike groups: records of one class that look like another class in input space *and*
sit together in the trained model's representation.

A small backdoor (a blend on 5 % of one MNIST class: 20 of 4,000 records) forms no HDBSCAN
cluster (all 20 were left unclustered, with half of their class) and fires the individual
rule too rarely for the set-wide noise floor (8 of 20). What still gives it away is that its
records agree on *one* (label, look-alike) pair and that the model, having learned the
trigger, places them next to each other. Clean look-alikes (MNIST '2's that a pixel k-NN
calls '1': 17 of them) are scattered among their class instead. The affinity of a group is
the mean share of each member's nearest records of its class, in the final model's
penultimate representation, that are members too (measured: the blend 0.99; every clean
pair on MNIST, digits and breast cancer 0.08-0.40; 2-class label flips 0.87-0.91, which are
poison too). This is the representation-space view of SCAn (Tang et al. 2021) and of
activation clustering, asked of a group that input space proposes.
"""
from __future__ import annotations

import numpy as np

from poisoning_detection.detectors.base import ClassVerdict, Context, DetectorResult

#: Share of input-space neighbours that must agree on the other class (fusion's individual rule).
VOTE_SHARE = 0.7
#: Smallest group considered (HDBSCAN's smallest cluster).
MIN_GROUP = 5
#: Mean share of a member's nearest same-class records that are members: clean pairs stayed ≤ 0.40.
AFFINITY = 0.6
NEAREST = 5


def affinity(features: np.ndarray, in_class: np.ndarray, members: np.ndarray, k: int = NEAREST) -> float:
    """Mean share of each member's k nearest records of its class (itself excluded) that are members."""
    rows = np.flatnonzero(in_class)
    f = features[rows].astype(np.float64)
    is_member = np.isin(rows, members)
    q = f[is_member]
    d = (q * q).sum(1)[:, None] - 2 * q @ f.T + (f * f).sum(1)[None, :]
    d[np.arange(len(q)), np.flatnonzero(is_member)] = np.inf
    k = min(k, len(rows) - 1)
    nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
    return float(is_member[nearest].mean())


class LookAlikeGroups:
    name = "look_alike"

    def run(self, ctx: Context) -> DetectorResult:
        scores = np.zeros(len(ctx.y))
        flagged = np.zeros(len(ctx.y), bool)
        sources = np.full(len(ctx.y), -1)
        disagree = (ctx.votes != ctx.y) & (ctx.vote_share >= VOTE_SHARE)
        verdicts: dict[int, ClassVerdict] = {}
        for c in ctx.classes:
            in_c = ctx.y == c
            groups = []
            for s in np.unique(ctx.votes[disagree & in_c]):
                members = np.flatnonzero(disagree & in_c & (ctx.votes == s))
                if len(members) < MIN_GROUP or len(members) >= 0.5 * in_c.sum():
                    continue
                share = affinity(ctx.features, in_c, members)
                scores[members] = np.maximum(scores[members], share)
                poisoned = share >= AFFINITY
                if poisoned:
                    flagged[members] = True
                    sources[members] = int(s)
                groups.append({"looks_like": int(s), "size": int(len(members)), "affinity": round(share, 3),
                               "poisoned": poisoned})
            verdicts[c] = ClassVerdict(any(g["poisoned"] for g in groups), {"groups": groups})
        return DetectorResult(self.name, scores, verdicts, flagged=flagged, sources=sources)
