"""Hostile input to the record contract: every input ends in a Record or a clear RecordError."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.records import MAX_RECORD_BYTES, Record, RecordError, TrustStore, parse_record, producer_signing_key, sign_record

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    try:
        parse_record(raw)
    except RecordError as exc:
        assert str(exc)  # a message a student can read


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "silo", "producer", "timestamp", "features", "label", "signature", "x"]),
                       json_values, max_size=8))
def test_arbitrary_objects_never_crash(obj: dict) -> None:
    try:
        parse_record(json.dumps(obj))
    except RecordError as exc:
        assert exc.field in {"", "id", "silo", "producer", "timestamp", "features", "label", "signature", "x"} or \
            exc.field.split(".")[0] in obj or exc.field.split(".")[0] in Record.model_fields


def _good() -> dict:
    return {"id": "aws-1", "silo": "aws", "producer": "aws-producer-a", "timestamp": "2026-11-25T10:00:00+00:00",
            "features": [0.0, 0.5], "label": 3, "signature": ""}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.update(id="../../etc/passwd"), "id"),
        (lambda r: r.update(id="a/b"), "id"),
        (lambda r: r.update(id="a..b"), "id"),
        (lambda r: r.update(silo="azure-evil"), "silo"),
        (lambda r: r.update(features=[]), "features"),
        (lambda r: r.update(features=[0.1] * 5000), "features"),
        (lambda r: r.update(label=-1), "label"),
        (lambda r: r.update(label="three"), "label"),
        (lambda r: r.update(timestamp="yesterday"), "timestamp"),
        (lambda r: r.update(timestamp="2026-11-25T10:00:00"), "timestamp"),
        (lambda r: r.pop("producer"), "producer"),
        (lambda r: r.update(extra="x"), "extra"),
        (lambda r: r.update(producer="Robert'); DROP"), "producer"),
    ],
)
def test_malformed_record_names_the_field(mutate, field: str) -> None:
    record = _good()
    mutate(record)
    with pytest.raises(RecordError) as info:
        parse_record(json.dumps(record))
    assert info.value.field == field


@pytest.mark.parametrize("text", ['{"features": [NaN]}', '{"features": [Infinity]}', '{"features": [-Infinity]}'])
def test_nan_and_infinity_are_refused(text: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_record(text)
    assert info.value.field == "features"


def test_huge_and_deep_and_non_utf8_inputs_are_refused() -> None:
    with pytest.raises(RecordError, match="limit"):
        parse_record(b"{" + b" " * (MAX_RECORD_BYTES + 1) + b"}")
    with pytest.raises(RecordError):
        parse_record("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RecordError, match="UTF-8"):
        parse_record(b'{"id": "\xff\xfe"}')


def test_forged_and_replayed_signatures(tmp_path: Path) -> None:
    key = producer_signing_key("aws-producer-a", key_dir=tmp_path)
    other = producer_signing_key("aws-producer-b", key_dir=tmp_path)
    trust = TrustStore({"aws-producer-a": key.public_key(), "aws-producer-b": other.public_key()})
    signed = sign_record(Record.model_validate(_good()), key)
    trust.verify(signed)
    # replaying the signature on altered content fails
    forged = signed.model_copy(update={"label": 7})
    with pytest.raises(RecordError) as info:
        trust.verify(forged)
    assert info.value.field == "signature"
    # claiming another producer's identity fails
    with pytest.raises(RecordError):
        trust.verify(signed.model_copy(update={"producer": "aws-producer-b"}))
    # a revoked producer is refused even with a valid signature
    trust.revoke("aws-producer-a")
    with pytest.raises(RecordError) as info:
        trust.verify(signed)
    assert info.value.field == "producer"
