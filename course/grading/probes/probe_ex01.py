"""ex01 against the copy's ingestion.records: only a trusted producer's valid signature passes."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingestion.records import Record, RecordError, TrustStore, sign_record


def _record(producer: str = "p-good") -> Record:
    return Record(id="r-1", silo="aws", producer=producer, timestamp="2026-11-25T10:00:00+00:00",
                  features=[0.25, 0.5], label=3)


@pytest.fixture
def keys() -> dict[str, Ed25519PrivateKey]:
    return {"p-good": Ed25519PrivateKey.generate(), "p-other": Ed25519PrivateKey.generate()}


@pytest.fixture
def trust(keys: dict[str, Ed25519PrivateKey]) -> TrustStore:
    return TrustStore({name: key.public_key() for name, key in keys.items()})


def test_ex01_valid_signature_returns_the_canonical_line(keys, trust) -> None:
    signed = sign_record(_record(), keys["p-good"])
    assert bytes(trust.verify(signed)) == signed.to_json().encode()


def test_ex01_forged_signature_is_refused(keys, trust) -> None:
    forged = sign_record(_record(), Ed25519PrivateKey.generate())
    with pytest.raises(RecordError) as err:
        trust.verify(forged)
    assert err.value.field == "signature"


def test_ex01_another_producers_key_is_refused(keys, trust) -> None:
    with pytest.raises(RecordError):
        trust.verify(sign_record(_record("p-good"), keys["p-other"]))


def test_ex01_changed_field_after_signing_is_refused(keys, trust) -> None:
    signed = sign_record(_record(), keys["p-good"])
    with pytest.raises(RecordError):
        trust.verify(signed.model_copy(update={"label": 4}))


def test_ex01_unsigned_and_garbage_signatures_are_refused(trust) -> None:
    with pytest.raises(RecordError) as err:
        trust.verify(_record())
    assert err.value.field == "signature"
    for junk in ("not base64!", base64.b64encode(b"x" * 10).decode()):
        with pytest.raises(RecordError):
            trust.verify(_record().model_copy(update={"signature": junk}))


def test_ex01_unknown_and_revoked_producers_are_refused(keys, trust) -> None:
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(RecordError) as err:
        trust.verify(sign_record(_record("p-stranger"), stranger))
    assert err.value.field == "producer"
    signed = sign_record(_record(), keys["p-good"])
    trust.revoke("p-good")
    with pytest.raises(RecordError):
        trust.verify(signed)
