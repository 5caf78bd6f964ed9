"""The scan report: what the JSON output contains, and the concrete mitigations it recommends."""
from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field


class ClassReport(BaseModel):
    size: int
    poisoned: bool
    flagged: int
    sources: list[int] = Field(default_factory=list, description="Classes the flagged samples look like.")
    detectors: dict[str, bool] = Field(default_factory=dict, description="Each detector's own verdict.")


class MethodSummary(BaseModel):
    seconds: float
    classes_flagged: list[int]
    score_mean: float
    score_p50: float
    score_p95: float
    score_max: float


class Suspected(BaseModel):
    source: int
    target: int
    count: int
    trigger_pixels: list[list[int]] = Field(default_factory=list,
                                            description="(row, col) where flagged inputs differ most from the source.")


class Report(BaseModel):
    """Result of one scan (serialised as the CLI's REPORT.json)."""

    risk_score: float = Field(ge=0.0, le=1.0, description="How likely the set is poisoned (clean sets < 0.2).")
    found_share: float = Field(1.0, ge=0.0, le=1.0,
                               description="Estimated share of the suspected poison that is flagged.")
    n_samples: int
    flagged: list[str | int]
    flagged_count: int
    per_class: dict[str, ClassReport]
    methods: dict[str, MethodSummary]
    suspected: list[Suspected]
    producers: dict[str, dict[str, float]] = Field(default_factory=dict)
    compromised_producers: list[str] = Field(default_factory=list)
    mitigations: list[str]
    model: dict[str, Any]
    seconds: dict[str, float]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.model_dump(), indent=indent, sort_keys=False)


def mitigations(flagged: list[str | int], suspected: list[Suspected], compromised: list[str],
                risk: float, found_share: float = 1.0) -> list[str]:
    """Concrete next steps for what was found (empty findings -> say so)."""
    if not flagged:
        return ["No poisoning found: keep the data; re-scan after every new ingestion batch."]
    shown = ", ".join(map(str, flagged[:10])) + (" …" if len(flagged) > 10 else "")
    steps = [f"Quarantine the {len(flagged)} flagged records (move them out of the training set): {shown}."]
    if risk >= 0.5 and found_share < 0.8:
        steps.append(f"Only about {found_share:.0%} of the suspected poison is flagged: after the quarantine, "
                     "re-scan the set and review the records of the attacked classes before training.")
    for producer in compromised:
        steps.append(f"Revoke the signing key of producer '{producer}' (python -m lab trust revoke {producer}) and rotate it: "
                     "issue a new key, and accept nothing signed by the old one; investigate how it was used.")
    steps.append("Retrain without the flagged records and compare clean accuracy and attack success rate "
                 "(detect.py --remediate does this).")
    for s in suspected:
        if s.trigger_pixels:
            pix = ", ".join(f"({r},{c})" for r, c in s.trigger_pixels)
            steps.append(f"Add a trigger check to ingestion validation: flag records labelled {s.target} whose "
                         f"pixels {pix} depart from class {s.source}'s usual values (saturated, emptied, or "
                         f"set to a fixed value) while the record otherwise looks like class {s.source}.")
    if risk >= 0.5 and not compromised:
        steps.append("Find the producer(s) of the flagged records (pass --records or a `producers` array) "
                     "and rotate their keys.")
    return steps
