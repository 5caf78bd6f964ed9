"""ex05 against the copy's encryption.rotation: re-wrap moves the header only, and refuses corrupt input."""
from __future__ import annotations

import hashlib
import os

import pytest

from encryption.envelope import decrypt, encrypt
from encryption.errors import EnvelopeError
from encryption.format import parse
from encryption.providers.local import LocalKeyProvider, create_key_file
from encryption.rotation import rewrap_blob

CTX = {"silo": "azure", "dataset": "probe", "batch": "b7"}


@pytest.fixture
def providers(tmp_path) -> tuple[LocalKeyProvider, LocalKeyProvider]:
    create_key_file(tmp_path / "old.json")
    create_key_file(tmp_path / "new.json")
    return LocalKeyProvider(tmp_path / "old.json"), LocalKeyProvider(tmp_path / "new.json")


def test_ex05_rewrap_keeps_the_body_and_moves_the_key(providers) -> None:
    old, new = providers
    data = os.urandom(2000)
    blob = bytes(encrypt(data, old, CTX))
    out, header, digest = rewrap_blob(blob, CTX, old, new)
    before, off_before = parse(blob)
    after, off_after = parse(bytes(out))
    assert bytes(out)[off_after:] == blob[off_before:]
    assert after.key_id == new.current_key_id() != before.key_id
    assert after.nonce == before.nonce and after.context_sha256 == before.context_sha256
    assert digest == hashlib.sha256(data).digest()
    assert bytes(decrypt(bytes(out), new, CTX)) == data
    with pytest.raises(EnvelopeError):
        decrypt(bytes(out), old, CTX)


def test_ex05_corrupt_envelope_gets_no_fresh_header(providers) -> None:
    old, new = providers
    blob = bytearray(encrypt(os.urandom(500), old, CTX))
    blob[-20] ^= 1
    with pytest.raises(EnvelopeError):
        rewrap_blob(bytes(blob), CTX, old, new)


def test_ex05_wrong_context_is_refused(providers) -> None:
    old, new = providers
    blob = bytes(encrypt(b"x" * 64, old, CTX))
    with pytest.raises(EnvelopeError):
        rewrap_blob(blob, {**CTX, "batch": "b8"}, old, new)
