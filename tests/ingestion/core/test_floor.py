"""The floor: one verify plus one parse per record, timed on records the trust store knows."""
from __future__ import annotations

import pytest
from nacl.exceptions import BadSignatureError

from ingestion import samples
from ingestion.core.floor import Floor, floor_us_per_record


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return [r.to_json().encode() for r in samples.generate_records("aws", 40, seed=8)]


def test_the_floor_times_a_verify_and_a_parse_per_record(lines: list[bytes]) -> None:
    floor = Floor(lines)
    assert len(floor.signed) == len(lines)
    assert 0 < floor.measure(1) < 10_000 and 0 < floor_us_per_record(lines, repeats=1) < 10_000


def test_the_floors_work_verifies_each_record_it_parses(lines: list[bytes]) -> None:
    floor = Floor(lines, sample=10)
    assert len(floor.signed) == 10 and len(floor.by_id) == len(lines)
    for line in lines:
        floor.work(line)  # every record of the benchmark verifies
    forged = samples.generate_records("aws", 1, seed=8)[0]
    key, signed, signature = floor.by_id[forged.id]
    floor.by_id[forged.id] = (key, signed + b" ", signature)  # the verify is real: other bytes fail it
    with pytest.raises(BadSignatureError):
        floor.work(forged.to_json().encode())


def test_a_record_the_trust_store_does_not_know_has_no_floor(lines: list[bytes]) -> None:
    stranger = samples.generate_records("aws", 1, seed=8)[0].model_copy(update={"producer": "nobody-we-know"})
    with pytest.raises(KeyError):
        Floor([*lines, stranger.to_json().encode()])
