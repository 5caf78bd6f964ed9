"""The grader's records: fresh per seed, enrolled/revoked as intended, and each hostile kind means what it says."""
from __future__ import annotations

import base64
import re
from pathlib import Path

from course.grading.records import EXPECTED_REASON, PIPELINE_KINDS, make_records
from ingestion.core.validate import Accepted, DeadLetter, Validator
from ingestion.records import MAX_RECORD_BYTES, TrustStore
from lab.trust import TrustFile

#: Dead-lettered by the consumer, which knows which silo it serves (the Validator below does not).
NEEDS_SILO_BINDING = {"cross-silo"}


def test_fresh_keys_ids_and_enrolment(tmp_path: Path) -> None:
    lines_a, truth_a = make_records(tmp_path / "a", "aws", 10, seed=1)
    lines_b, truth_b = make_records(tmp_path / "b", "aws", 10, seed=2)
    assert not set(truth_a["valid"]) & set(truth_b["valid"])
    active = {n for n, e in TrustFile(tmp_path / "a").producers().items() if e.active}
    assert active == {truth_a["producer"]}  # the revoked one is enrolled but not active
    assert len(lines_a) == 10 + len(PIPELINE_KINDS) + 1
    assert {h["kind"] for h in truth_a["hostile"]} == {*PIPELINE_KINDS, "forged"}


def test_each_hostile_kind_is_refused_for_the_reason_the_grader_expects(tmp_path: Path) -> None:
    lines, truth = make_records(tmp_path, "gcp", 5, seed=3)
    validator = Validator(TrustStore.from_dir(tmp_path))
    checked = [(raw, validator.check(raw, "p")) for raw in lines]  # the duplicate follows its original
    accepted = {o.record.id for _, o in checked if isinstance(o, Accepted)}
    assert set(truth["valid"]) <= accepted
    last = dict(checked)  # for the duplicate's bytes: its second, dead-lettered, outcome
    for h in truth["hostile"]:
        out = last[base64.b64decode(h["raw_b64"])]
        if h["kind"] in NEEDS_SILO_BINDING:
            continue
        assert isinstance(out, DeadLetter), h["kind"]
        assert re.search(EXPECTED_REASON[h["kind"]], f"{out.field}: {out.reason}".lower()), (h["kind"], out)
    oversize = next(h for h in truth["hostile"] if h["kind"] == "oversize")
    assert len(base64.b64decode(oversize["raw_b64"])) > MAX_RECORD_BYTES
