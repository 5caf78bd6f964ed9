"""The scenario's revocation step: exactly the compromised producer, revoked for good
(a fresh process refuses it), or the step fails."""
from __future__ import annotations

import io

from rich.console import Console

from course.scenario.config import ScenarioConfig
from course.scenario.console import StepLog
from course.scenario.run import _quarantine
from course.scenario.traffic import Traffic, compromised_producer
from ingestion import samples
from ingestion.records import REVOKED_PRODUCER, TrustStore
from lab.trust import ensure_enrolled


def test_naming_the_wrong_producer_fails_and_the_right_one_is_revoked_for_good() -> None:
    cfg = ScenarioConfig(compromised="aws", progress=False)
    stolen = compromised_producer("aws")
    for name in (stolen, "aws-producer-bb"):  # a look-alike name must not pass for the stolen one
        ensure_enrolled(name, "aws")
    record = samples.generate_records("aws", 1, seed=4, producer=stolen)[0]
    plan = {"aws": Traffic("aws", [record.to_json().encode()], [], [record.id], 0)}
    log = StepLog(console=Console(file=io.StringIO()))

    wrong = _quarantine(log, {"aws": {"flagged": [record.id], "compromised_producers": ["aws-producer-bb"]}}, cfg, plan)
    assert log.rows[-1]["ok"] is False and wrong["revoked"] == ["aws-producer-bb"]

    right = _quarantine(log, {"aws": {"flagged": [record.id], "compromised_producers": [stolen]}}, cfg, plan)
    assert log.rows[-1]["ok"] is True, log.rows[-1]
    assert right["fresh_process"] == REVOKED_PRODUCER
    assert stolen in TrustStore.from_dir().revoked
