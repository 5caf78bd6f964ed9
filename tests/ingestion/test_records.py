"""The record contract: each fault is rejected and names its field; samples are deterministic."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestion import samples
from ingestion.records import (
    MAX_RECORD_BYTES, Record, RecordError, TrustStore, canonical_json, parse_record, producer_signing_key,
    sign_record,
)


@pytest.fixture(scope="module")
def good() -> Record:
    return samples.generate_records("aws", 1, seed=3)[0]


def body(record: Record, **changes: object) -> dict[str, object]:
    out = json.loads(record.to_json())
    out.update(changes)
    return out


def field_of(raw: bytes | str | dict[str, object]) -> str:
    with pytest.raises(RecordError) as info:
        parse_record(raw)
    return info.value.field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "../../etc/passwd"}, "id"),
        ({"id": "a..b"}, "id"),
        ({"id": "a/b"}, "id"),
        ({"silo": "oracle"}, "silo"),
        ({"producer": "Bad Name"}, "producer"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2026-01-01T00:00:00"}, "timestamp"),
        ({"features": []}, "features"),
        ({"features": ["x"]}, "features.0"),
        ({"label": -1}, "label"),
        ({"label": "three"}, "label"),
        ({"comment": "smuggled"}, "comment"),
    ],
)
def test_each_field_error_is_named(good: Record, change: dict[str, object], field: str) -> None:
    assert field_of(json.dumps(body(good, **change))) == field


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_features_are_rejected(good: Record, constant: str) -> None:
    text = json.dumps(body(good)).replace('"features": [', f'"features": [{constant}, ', 1)
    assert field_of(text) == "features"


def test_missing_field_is_named(good: Record) -> None:
    raw = body(good)
    del raw["label"]
    assert field_of(raw) == "label"


def test_oversize_and_non_utf8_and_non_object(good: Record) -> None:
    assert field_of(good.to_json().encode() + b" " * MAX_RECORD_BYTES) == ""
    assert field_of(b'{"id": "\xff"}') == ""
    assert field_of(b"[1, 2]") == ""
    assert field_of(b"{not json") == ""


def test_signature_checks(good: Record) -> None:
    trust = TrustStore.from_dir()
    trust.verify(good)  # the default producer's key is trusted on this machine
    with pytest.raises(RecordError) as info:
        trust.verify(good.model_copy(update={"signature": ""}))
    assert info.value.field == "signature"
    with pytest.raises(RecordError) as info:
        trust.verify(good.model_copy(update={"label": (good.label + 1) % 10}))  # tampered after signing
    assert info.value.field == "signature"
    rogue = Ed25519PrivateKey.generate()
    with pytest.raises(RecordError) as info:
        trust.verify(sign_record(good, rogue))
    assert info.value.field == "signature"
    stranger = sign_record(good.model_copy(update={"producer": "nobody-we-know"}), rogue)
    with pytest.raises(RecordError) as info:
        trust.verify(stranger)
    assert info.value.field == "producer"
    trust.revoke(good.producer)
    with pytest.raises(RecordError):
        trust.verify(good)


def test_signature_of_wrong_size_or_swapped_key_is_refused(good: Record) -> None:
    trust = TrustStore.from_dir()
    assert trust.verify(good) == good.to_json().encode()  # the line a consumer lands
    short = base64.b64encode(base64.b64decode(good.signature)[:63]).decode()
    with pytest.raises(RecordError, match="does not verify"):
        trust.verify(good.model_copy(update={"signature": short}))
    trust.keys[good.producer] = Ed25519PrivateKey.generate().public_key()  # the name now maps to another key
    with pytest.raises(RecordError, match="does not verify"):
        trust.verify(good)


@pytest.mark.parametrize("timestamp", ["2026-11-25T10:00:00+00:00", 'x",\\"silo\\":"aws"', "z\u00e9\u2028\n"])
@pytest.mark.parametrize("features", [[0.0, 1e-05, 1e16], [3, -0.0, 123456.789]])
def test_canonical_forms_match_signing_bytes_and_to_json(good: Record, timestamp: str, features: list[float]) -> None:
    record = good.model_copy(update={"timestamp": timestamp, "features": features, "signature": 'a"b\\c'})
    signed, line = record.canonical_forms()
    assert signed == record.signing_bytes()
    assert line == record.to_json().encode()
    assert json.loads(line) == record.model_dump()  # standard JSON, the same values


def test_canonical_forms_encode_twice_when_the_signature_is_not_next_to_the_silo(good: Record) -> None:
    """A key sorting between "signature" and "silo" (no Record has one) takes the slow way, still right."""
    odd = good.model_copy()
    object.__setattr__(odd, "__dict__", {**good.__dict__, "signer": 'x,"silo":'})
    signed, line = odd.canonical_forms()
    assert (signed, line) == (odd.signing_bytes(), odd.to_json().encode())
    assert b'"signer"' in signed and b'"signature"' not in signed


def test_a_record_from_the_fast_path_is_the_record_pydantic_builds(good: Record) -> None:
    line = good.to_json().encode()
    fast = parse_record(line)
    assert fast == Record.model_validate(json.loads(line))
    assert fast.model_dump() == good.model_dump() and fast.model_fields_set == set(Record.model_fields)
    assert fast.model_copy(update={"label": 3}).label == 3 and fast.label == good.label
    with pytest.raises(ValueError):
        fast.label = 3  # type: ignore[misc]  # frozen, as the validated model is


def test_the_canonical_encoding_is_pinned() -> None:
    """The specification in canonical_json's docstring, byte for byte."""
    body = {"b": [1e-05, 1e16, 0.1, 3, -0.0], "a": "z\u00e9\u2028\"\\\n", "\u00e9": 1}
    assert canonical_json(body) == ('{"a":"z\u00e9\u2028\\"\\\\\\n","b":[0.00001,1e+16,0.1,3,-0.0],"\u00e9":1}').encode()


@pytest.mark.parametrize("features", [[1e-05, 0.5], [1e-300, 2.5e-08, 1e16]])
@pytest.mark.parametrize("text", ["plain", "caf\u00e9 \u2603 \U0001f600"])
def test_signer_and_verifier_agree_on_non_ascii_and_small_floats(features: list[float], text: str) -> None:
    """Signed by the producer's code, sent as the canonical line, parsed and verified by the consumer's."""
    key = Ed25519PrivateKey.generate()
    trust = TrustStore({"agree-producer": key.public_key()}, {"agree-producer": "aws"})
    unsigned = Record(id="agree-1", silo="aws", producer="agree-producer", timestamp="2026-11-25T10:00:00+00:00",
                      features=features, label=1)
    signed = sign_record(unsigned, key)
    line = signed.to_json().encode()
    received = parse_record(line)
    assert received.features == features
    assert trust.verify(received) == line
    # non-ASCII text can only sit in fields the contract leaves free; the encoder treats it the same
    assert canonical_json({"t": text, "f": features}) == canonical_json(json.loads(canonical_json({"f": features, "t": text})))


@pytest.mark.parametrize("raw", [
    b'{"id":"a\\n","silo":"aws","producer":"p","timestamp":"2026-11-25T10:00:00+00:00","features":[1],"label":1}',
    b'{"id":"a..b","silo":"aws","producer":"p","timestamp":"2026-11-25T10:00:00+00:00","features":[1],"label":1}',
    b'{"id":"a","silo":"aws","producer":"p","timestamp":"2026-11-25T10:00:00","features":[1],"label":1}',
    b'{"id":"a","silo":"aws","producer":"p","timestamp":"2026-11-25T10:00:00+00:00","features":[1e999],"label":1}',
    b'{"id":"a","silo":"aws","producer":"p","timestamp":"2026-11-25T10:00:00+00:00","features":[1],"label":"1"}',
    b'{"id":"a","silo":"aws","producer":"p","timestamp":"2026-11-25T10:00:00+00:00","features":[1],"label":1,"x":0}',
])
def test_fast_path_decides_as_pydantic_does(raw: bytes) -> None:
    """msgspec's fast path never accepts what pydantic refuses, nor changes what it accepts."""
    try:
        expected: object = Record.model_validate(json.loads(raw)).model_dump()
    except (ValueError, TypeError):
        expected = "refused"
    try:
        got: object = parse_record(raw).model_dump()
    except RecordError:
        got = "refused"
    assert got == expected


def test_samples_are_deterministic_and_silos_disjoint() -> None:
    a = samples.generate_records("gcp", 30, seed=5)
    b = samples.generate_records("gcp", 30, seed=5)
    assert [r.to_json() for r in a] == [r.to_json() for r in b]
    assert [r.id for r in samples.generate_records("gcp", 30, seed=6)] != [r.id for r in a]
    shares = [set(samples.silo_share(s).tolist()) for s in ("aws", "azure", "gcp")]
    assert not (shares[0] & shares[1]) and not (shares[1] & shares[2]) and not (shares[0] & shares[2])
    assert all(0.0 <= v <= 1.0 for r in a for v in r.features) and len(a[0].features) == 64


def test_reuse_beyond_the_share_augments_with_unique_ids() -> None:
    share = len(samples.silo_share("azure"))
    records = samples.generate_records("azure", share + 20, seed=1)
    ids = [r.id for r in records]
    assert len(set(ids)) == len(ids)
    augmented = [r for r in records if "-aug1" in r.id]
    assert len(augmented) == 20
    originals = {r.id: r for r in records[:share]}
    assert augmented[0].features != originals[augmented[0].id.rsplit("-aug", 1)[0]].features
    trust = TrustStore.from_dir()
    for record in records[-3:]:
        trust.verify(record)


def test_invalid_examples_are_rejected_naming_their_field() -> None:
    valid = samples.generate_records("aws", 12, seed=2)
    trust = TrustStore.from_dir()
    bad = samples.invalid_examples(valid, len(samples.FAULT_KINDS), seed=2)
    assert {b.kind for b in bad} == set(samples.FAULT_KINDS)
    for example in bad:
        if example.kind == "duplicate":
            assert parse_record(example.raw).id in {r.id for r in valid}
            continue
        with pytest.raises(RecordError) as info:
            trust.verify(parse_record(example.raw))
        assert info.value.field == example.field, example.kind


def test_mixed_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    n_valid, n_bad = samples.write_invalid_examples(path, "aws", 20, 10, seed=4)
    lines = samples.read_jsonl(path)
    assert (n_valid, n_bad, len(lines)) == (20, 10, 30)
    assert lines[-1] in {r.to_json().encode() for r in samples.generate_records("aws", 20, seed=4)}


def test_producer_keys_are_private(lab_state_dir: Path) -> None:
    producer_signing_key("test-producer-z")
    key_file = lab_state_dir / "keys" / "producers" / "test-producer-z.key"
    assert key_file.stat().st_mode & 0o077 == 0


def test_schema_file_is_current() -> None:
    assert samples.SCHEMA_PATH.read_text() == samples.schema_text(), \
        "run: python data/generate.py --export-schema"
