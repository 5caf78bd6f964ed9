"""The scenario's settings, validated before any work starts."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lab.paths import REPORTS_DIR
from lab.silos import Silo


class ScenarioConfig(BaseModel):
    """Flags of ``python -m course.scenario`` (see ``--help``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compromised: Silo | Literal["none"] = "aws"
    poison_rate: float = Field(0.08, gt=0, le=0.5, description="injected records / the silo's clean records")
    source: int = Field(0, ge=0, le=9, description="class whose images carry the trigger")
    target: int = Field(1, ge=0, le=9, description="label the attacker wants the trigger to produce")
    records: int | None = Field(None, ge=30, le=5000, description="clean records per silo (default: its whole share)")
    invalid: int = Field(5, ge=0, le=100, description="malformed/unsigned records mixed into each silo's stream")
    rounds: int | None = Field(None, ge=1, le=50, description="FL rounds (default: the FL app's)")
    clients: int = Field(10, ge=3, le=30)
    dp: bool = True
    secagg: bool = True
    baseline: bool = Field(True, description="also train on the same data without the attack")
    seed: int = Field(0, ge=0)
    out: Path = Field(default_factory=lambda: REPORTS_DIR / time.strftime("scenario-%Y%m%d-%H%M%S"))
    progress: bool = True
    model_dir: Path | None = Field(None, description="where the final (quarantined) model goes; default models/")
    #: story targets checked in the final step (issue: ASR after quarantine <= 5 %, accuracy within 2 points)
    max_asr_after: float = Field(0.05, ge=0, le=1)
    max_accuracy_drop: float = Field(0.02, ge=0, le=1)
    min_recall: float = Field(0.9, ge=0, le=1)
    #: every DP training must reach this epsilon or better (issue #15)
    max_epsilon: float = Field(8.0, gt=0)
    #: raw-run attack success above the reference run's by at least this means the backdoor took hold
    min_backdoor_lift: float = Field(0.10, ge=0, le=1)

    @model_validator(mode="after")
    def _distinct_classes(self) -> ScenarioConfig:
        if self.source == self.target:
            raise ValueError("source and target classes must differ")
        return self

    @property
    def dataset(self) -> str:
        return "digits"
