"""Hostile envelopes: truncated, bit-flipped, header-swapped and version-bumped blobs.

Every mutated blob must end in an EnvelopeError subclass with a readable message
that contains no plaintext; none may return plaintext. Hypothesis draws the
mutations; the CLI's "no partial plaintext on failure" is covered in
tests/encryption/test_envelope_cli.py.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encryption.envelope import decrypt, encrypt
from encryption.errors import EnvelopeError
from encryption.format import PREFIX
from encryption.providers.local import LocalKeyProvider, create_key_file
from tests.faults.tally import count

PLAINTEXT = b"SECRET-PLAINTEXT-" + bytes(range(32, 127)) * 3
CONTEXT = {"silo": "aws", "dataset": "digits", "batch": "b-1"}
FUZZ = settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                deadline=None)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> LocalKeyProvider:
    path: Path = tmp_path_factory.mktemp("keys") / "fuzz.key"
    create_key_file(path)
    return LocalKeyProvider(path)


@pytest.fixture(scope="module")
def blob(provider: LocalKeyProvider) -> bytes:
    return bytes(encrypt(PLAINTEXT, provider, CONTEXT))


def refused(mutated: bytes, provider: LocalKeyProvider, context: dict[str, str] = CONTEXT) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as caught:
        out = decrypt(mutated, provider, context)
        pytest.fail(f"a mutated envelope opened ({len(out)} bytes returned)")
    message = str(caught.value)
    assert message and len(message) < 500
    assert b"SECRET-PLAINTEXT" not in message.encode() and "SECRET-PLAINTEXT" not in repr(caught.value.args)
    return caught.value


def test_the_untouched_blob_opens(blob: bytes, provider: LocalKeyProvider) -> None:
    assert bytes(decrypt(blob, provider, CONTEXT)) == PLAINTEXT


@FUZZ
@given(data=st.data())
def test_truncated(blob: bytes, provider: LocalKeyProvider, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    refused(blob[:cut], provider)
    count("envelope: truncated", bad_inputs=1, plaintext_leaks=0)


@FUZZ
@given(data=st.data())
def test_bit_flipped(blob: bytes, provider: LocalKeyProvider, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.integers(min_value=0, max_value=len(blob) * 8 - 1), min_size=1, max_size=4,
                               unique=True))
    mutated = bytearray(blob)
    for bit in flips:
        mutated[bit // 8] ^= 1 << (bit % 8)
    refused(bytes(mutated), provider)
    count("envelope: bit-flipped", bad_inputs=1, plaintext_leaks=0)


@FUZZ
@given(version=st.integers(min_value=0, max_value=255).filter(lambda v: v != 1))
def test_version_bumped(blob: bytes, provider: LocalKeyProvider, version: int) -> None:
    mutated = bytearray(blob)
    mutated[4] = version  # PREFIX: magic (4 bytes), version (1), header length (4)
    refused(bytes(mutated), provider)
    count("envelope: version changed", bad_inputs=1, plaintext_leaks=0)


@FUZZ
@given(length=st.integers(min_value=0, max_value=2**32 - 1))
def test_header_length_lies(blob: bytes, provider: LocalKeyProvider, length: int) -> None:
    real = PREFIX.unpack_from(blob)[2]
    if length == real:
        return
    mutated = blob[:5] + struct.pack(">I", length) + blob[PREFIX.size:]
    refused(mutated, provider)
    count("envelope: header length", bad_inputs=1, plaintext_leaks=0)


@FUZZ
@given(other=st.binary(min_size=1, max_size=200), batch=st.text(min_size=1, max_size=12))
def test_header_swapped(blob: bytes, provider: LocalKeyProvider, other: bytes, batch: str) -> None:
    """The header of another envelope (other data or another context) on this body, and the reverse."""
    ctx = {**CONTEXT, "batch": batch}
    donor = bytes(encrypt(other, provider, ctx))
    head, dhead = PREFIX.size + PREFIX.unpack_from(blob)[2], PREFIX.size + PREFIX.unpack_from(donor)[2]
    refused(donor[:dhead] + blob[head:], provider, ctx)
    refused(donor[:dhead] + blob[head:], provider)
    refused(blob[:head] + donor[dhead:], provider)
    count("envelope: header swapped", bad_inputs=3, plaintext_leaks=0)


@FUZZ
@given(context=st.dictionaries(st.sampled_from(["silo", "dataset", "batch", "x"]), st.text(min_size=1, max_size=8),
                               max_size=4).filter(lambda c: c != CONTEXT))
def test_wrong_context(blob: bytes, provider: LocalKeyProvider, context: dict[str, str]) -> None:
    refused(blob, provider, context)
    count("envelope: wrong context", bad_inputs=1, plaintext_leaks=0)
