"""ex02 against the copy's ingestion.core.validate: every rejection says why, which field, and keeps the bytes."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestion.core.validate import Accepted, DeadLetter, Validator
from ingestion.records import Record, TrustStore, sign_record

KEY = Ed25519PrivateKey.generate()


def _line(i: int, **change: object) -> bytes:
    rec = sign_record(Record(id=f"v-{i}", silo="gcp", producer="p-v", timestamp="2026-11-25T10:00:00+00:00",
                             features=[0.1, 0.2], label=1), KEY)
    body = {**json.loads(rec.to_json()), **change}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@pytest.fixture
def validator() -> Validator:
    return Validator(TrustStore({"p-v": KEY.public_key()}))


def test_ex02_valid_record_is_accepted_with_its_line(validator) -> None:
    out = validator.check(_line(1), "shard-0/1")
    assert isinstance(out, Accepted) and out.record.id == "v-1" and out.position == "shard-0/1"
    assert json.loads(out.line) == json.loads(_line(1))


@pytest.mark.parametrize(("change", "field"), [({"label": -5}, "label"), ({"silo": "mars"}, "silo"),
                                                ({"timestamp": "yesterday"}, "timestamp"), ({"extra": 1}, "extra")])
def test_ex02_schema_fault_names_the_field(validator, change, field) -> None:
    raw = _line(2, **change)
    out = validator.check(raw, "p/2")
    assert isinstance(out, DeadLetter)
    assert out.field == field and out.reason and out.position == "p/2"
    assert base64.b64decode(out.raw_b64) == raw


def test_ex02_non_utf8_and_malformed_bytes_are_kept(validator) -> None:
    for raw in (b"\xff\xfe{", b'{"id": '):
        out = validator.check(raw, "p/3")
        assert isinstance(out, DeadLetter) and out.reason
        assert base64.b64decode(out.raw_b64) == raw


def test_ex02_unsigned_record_is_dead_lettered_not_raised(validator) -> None:
    out = validator.check(_line(4, signature=""), "p/4")
    assert isinstance(out, DeadLetter) and out.field == "signature"


def test_ex02_duplicate_id_lands_once(validator) -> None:
    first = validator.check(_line(5), "p/5")
    again = validator.check(_line(5), "p/6")
    assert isinstance(first, Accepted)
    assert isinstance(again, DeadLetter) and again.is_duplicate and again.field == "id"


def test_ex02_a_rejected_record_does_not_block_its_id(validator) -> None:
    assert isinstance(validator.check(_line(6, label=-1), "p/7"), DeadLetter)
    assert isinstance(validator.check(_line(6), "p/8"), Accepted)
