from __future__ import annotations

import base64

from ingestion import samples
from ingestion.core.validate import DUPLICATE_REASON, Accepted, DeadLetter, Validator
from ingestion.records import Record, TrustStore


def test_accepts_valid_and_dead_letters_everything_else(records: list[Record], trust: TrustStore) -> None:
    bad = samples.invalid_examples(records, len(samples.FAULT_KINDS), seed=1)
    lines = samples.mixed_lines(records, bad, seed=1)
    accepted, dead = Validator(trust).check_all((raw, f"p:{i}") for i, raw in enumerate(lines))
    assert [a.record.id for a in accepted] == [r.id for r in records]
    assert len(dead) == len(bad)
    assert sorted(d.field for d in dead) == sorted(b.field for b in bad)
    assert sum(d.is_duplicate for d in dead) == 1
    for letter in dead:  # raw bytes survive exactly, position says where it came from
        assert base64.b64decode(letter.raw_b64) in lines
        assert letter.position.startswith("p:") and letter.reason


def test_dedupe_uses_the_persisted_id_set(records: list[Record], trust: TrustStore) -> None:
    raw = records[0].to_json().encode()
    first = Validator(trust).check(raw, "a")
    assert isinstance(first, Accepted)
    again = Validator(trust, seen_ids={records[0].id}).check(raw, "b")
    assert isinstance(again, DeadLetter) and again.reason == DUPLICATE_REASON and again.field == "id"


def test_dead_letter_json_round_trip() -> None:
    letter = DeadLetter("not valid UTF-8", "", "shard:7", base64.b64encode(b"\xff").decode())
    assert DeadLetter.from_json(letter.to_json()) == letter


def test_screen_keeps_no_state_and_admit_dedupes_in_order(records: list[Record], trust: TrustStore) -> None:
    validator = Validator(trust)
    raw = records[0].to_json().encode()
    first, again = validator.screen(raw, "a"), validator.screen(raw, "b")
    assert isinstance(first, Accepted) and isinstance(again, Accepted) and not validator.seen_ids
    assert isinstance(validator.admit(first), Accepted)
    duplicate = validator.admit(again)
    assert isinstance(duplicate, DeadLetter) and duplicate.is_duplicate and duplicate.position == "b"
    assert base64.b64decode(duplicate.raw_b64) == raw  # the bytes as read, not the canonical line
