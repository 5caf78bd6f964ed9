"""ex03 against the copy's encryption.envelope: context-bound AES-GCM under a fresh nonce."""
from __future__ import annotations

import os

import pytest

from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import EnvelopeError
from encryption.providers.local import LocalKeyProvider, create_key_file

CTX = {"silo": "aws", "dataset": "probe", "batch": "b0001"}


@pytest.fixture
def provider(tmp_path) -> LocalKeyProvider:
    create_key_file(tmp_path / "kek.json")
    return LocalKeyProvider(tmp_path / "kek.json")


def test_ex03_round_trip(provider) -> None:
    data = os.urandom(3000)
    assert bytes(decrypt(bytes(encrypt(data, provider, CTX)), provider, CTX)) == data


def test_ex03_ciphertext_hides_the_plaintext(provider) -> None:
    data = b"secret-record-" * 50
    assert b"secret-record-" not in bytes(encrypt(data, provider, CTX))


@pytest.mark.parametrize("other", [{**CTX, "batch": "b0002"}, {**CTX, "dataset": "x"}, {**CTX, "silo": "gcp"}])
def test_ex03_wrong_context_is_refused(provider, other) -> None:
    blob = bytes(encrypt(b"abc", provider, CTX))
    with pytest.raises(EnvelopeError):
        decrypt(blob, provider, other)


def test_ex03_every_envelope_gets_its_own_nonce(provider) -> None:
    nonces = {bytes(read_header(bytes(encrypt(b"same", provider, CTX))).nonce) for _ in range(8)}
    assert len(nonces) == 8


def test_ex03_tampered_body_is_refused(provider) -> None:
    blob = bytearray(encrypt(os.urandom(500), provider, CTX))
    blob[-30] ^= 1
    with pytest.raises(EnvelopeError):
        decrypt(bytes(blob), provider, CTX)


def test_ex03_context_is_authenticated_not_just_hashed(provider) -> None:
    """Re-hash the header for another context: AES-GCM must still refuse (the AAD binds it)."""
    from dataclasses import replace

    from encryption.context import context_sha256
    from encryption.format import parse

    blob = bytes(encrypt(b"payload", provider, CTX))
    header, offset = parse(blob)
    other = {**CTX, "batch": "b0009"}
    forged = replace(header, context_sha256=context_sha256(other)).encode() + blob[offset:]
    with pytest.raises(EnvelopeError):
        decrypt(forged, provider, other)
