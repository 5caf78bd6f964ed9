"""What every case study returns: measured evidence, and checks that decide pass or fail."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lab.config import settings


@dataclass
class Check:
    """One claim of the case study, with what was expected and what this run observed."""

    claim: str
    expected: str
    observed: str
    ok: bool


@dataclass
class CaseResult:
    """The outcome of one case study run. ``ok`` only when every check held."""

    name: str
    evidence: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def check(self, claim: str, ok: bool, expected: str, observed: Any) -> bool:
        self.checks.append(Check(claim, expected, str(observed), bool(ok)))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "started": self.started, "evidence": self.evidence,
                "checks": [asdict(c) for c in self.checks]}


def work_dir(name: str) -> Path:
    """A case study's scratch folder under the lab's state dir (git-ignored)."""
    path = settings().state_dir / "case_studies" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
