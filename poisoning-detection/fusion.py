"""Fusing the detectors: one per-sample score, a flag rule with no assumed poison rate, a risk score.

Two kinds of evidence, each a share in [0, 1] (so no rate or scale has to be tuned):
- *group* evidence — the sample sits in an activation cluster whose members mostly look
  like another class (activation clustering + exclusionary reclassification), or in a
  trigger group that looks like other classes (all-to-one, poison-majority; see
  `activation_clustering`). Flagged when that share is ≥ 0.5. Backdoors produce such
  groups; clean classes do not.
- *individual* evidence — the sample's input-space neighbours agree on another class
  (share ≥ 0.7) *and* the early model predicts that same class with p ≥ 0.5. Label flips
  produce these; on clean sets the rule fires on ≤ 1 % (genuinely ambiguous digits), so
  individual flags are kept only when they exceed 2 % of the set (twice what clean data
  shows) — a bound on the noise floor, not an assumed poison rate.
The loss, gradient and spectral scores do not vote on flags (their ranking is good, a
threshold on them is not: per-class z > 2 reaches F1 0.07–0.26 on backdoors); they enter
the fused score as global percentile ranks, which orders samples within each verdict.

`risk_score` is the strongest group evidence of any poisoned cluster, or the excess of
individually flagged samples over the 1 % that clean data shows, whichever is larger.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from poisoning_detection.detectors.base import Context, DetectorResult

NEIGHBOUR_SHARE = 0.7
EARLY_PROB = 0.5
#: Share of individually flagged samples that clean data shows (ambiguous digits); risk starts above it.
CLEAN_INDIVIDUAL_SHARE = 0.01


@dataclass
class Fused:
    scores: np.ndarray
    flagged: np.ndarray
    group: np.ndarray       # bool: flagged by group evidence
    individual: np.ndarray  # bool: flagged by individual evidence
    risk_score: float


def individual_evidence(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(share in [0, 1], flag) from neighbour votes and the early model's prediction."""
    n = np.arange(len(ctx.y))
    disagree = ctx.votes != ctx.y
    p_vote = ctx.early_probs[n, ctx.votes]
    share = np.where(disagree, ctx.vote_share * p_vote, 0.0)
    flag = (disagree & (ctx.vote_share >= NEIGHBOUR_SHARE)
            & (ctx.early_probs.argmax(1) == ctx.votes) & (p_vote >= EARLY_PROB))
    return share, flag


def fuse(ctx: Context, results: dict[str, DetectorResult]) -> Fused:
    ac = results["activation_clustering"]
    group = ac.flagged if ac.flagged is not None else np.zeros(len(ctx.y), bool)
    ind_share, individual = individual_evidence(ctx)
    ranks = [rankdata(results[k].scores) / len(ctx.y) for k in ("loss", "gradient", "spectral_signatures")
             if k in results]
    rank = np.mean(ranks, axis=0) if ranks else np.zeros(len(ctx.y))
    evidence = np.maximum(np.where(group, ac.scores, 0.0), ind_share)
    scores = 0.8 * evidence + 0.2 * rank
    ind_only = float((individual & ~group).mean())
    if ind_only <= 2 * CLEAN_INDIVIDUAL_SHARE:
        # no more disagreements than clean data shows: ambiguous samples, not an attack
        individual = np.zeros_like(individual)
    flagged = group | individual
    # BEGIN SOLUTION ex09
    group_risk = float(ac.scores[group].max()) if group.any() else 0.0
    ind_risk = float(np.clip((ind_only - CLEAN_INDIVIDUAL_SHARE) / 0.04, 0.0, 1.0))
    return Fused(scores, flagged, group, individual, round(max(group_risk, ind_risk), 4))
    # END SOLUTION ex09
