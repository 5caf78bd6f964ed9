"""encrypt/decrypt over both shipped key services: round trips, every tamper, every context error."""
from __future__ import annotations

import pytest

from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import (
    ContextMismatch,
    DecryptionFailed,
    EnvelopeError,
    InvalidContext,
    KeyServiceError,
    MalformedEnvelope,
    UnsupportedVersion,
)
from encryption.format import PREFIX, Header
from encryption.providers.base import KeyProvider
from encryption.providers.local import LocalKeyProvider

CONTEXT = {"silo": "aws", "dataset": "train", "batch": "000001"}
PLAINTEXT = b'{"id": "r1", "features": [0.25, 0.5]}\n' * 50


@pytest.mark.parametrize("size", [0, 1, 4096, 1 << 20])
def test_round_trip_local(local_provider: LocalKeyProvider, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    blob = encrypt(data, local_provider, CONTEXT)
    assert decrypt(bytes(blob), local_provider, CONTEXT) == data
    assert len(blob) == _body_offset(bytes(blob)) + size + 16
    if size >= 64:
        assert data[:64] not in bytes(blob)


def test_round_trip_and_header(provider: KeyProvider) -> None:
    blob = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    header = read_header(blob)
    assert header.provider == provider.name and header.version == 1 and header.alg == "AES-256-GCM"
    assert decrypt(blob, provider, CONTEXT) == PLAINTEXT
    assert PLAINTEXT[:32] not in blob
    other = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    assert read_header(other).nonce != header.nonce and other[-16:] != blob[-16:]


def _body_offset(blob: bytes) -> int:
    return PREFIX.size + PREFIX.unpack_from(blob)[2]


def flip(blob: bytes, index: int) -> bytes:
    out = bytearray(blob)
    out[index] ^= 0x01
    return bytes(out)


def test_every_single_bit_flip_in_the_header_fails(local_provider: LocalKeyProvider) -> None:
    blob = bytes(encrypt(PLAINTEXT, local_provider, CONTEXT))
    for index in range(_body_offset(blob)):
        with pytest.raises(EnvelopeError):
            decrypt(flip(blob, index), local_provider, CONTEXT)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: flip(b, _body_offset(b) + 3), id="body-bit"),
        pytest.param(lambda b: flip(b, len(b) - 1), id="tag-bit"),
        pytest.param(lambda b: b[:-1], id="truncated-1"),
        pytest.param(lambda b: b[: _body_offset(b) + 16], id="truncated-body"),
        pytest.param(lambda b: b + b"\0", id="extended"),
    ],
)
def test_body_and_tag_tampering_fails_authentication(provider: KeyProvider, tamper) -> None:  # type: ignore[no-untyped-def]
    blob = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    with pytest.raises(DecryptionFailed) as info:
        decrypt(tamper(blob), provider, CONTEXT)
    assert PLAINTEXT[:16].decode() not in str(info.value)


def test_wrong_magic_version_and_truncated_header(local_provider: LocalKeyProvider) -> None:
    blob = bytes(encrypt(PLAINTEXT, local_provider, CONTEXT))
    with pytest.raises(MalformedEnvelope):
        decrypt(b"SAIX" + blob[4:], local_provider, CONTEXT)
    with pytest.raises(UnsupportedVersion):
        decrypt(blob[:4] + b"\x02" + blob[5:], local_provider, CONTEXT)
    with pytest.raises(MalformedEnvelope):
        decrypt(blob[: _body_offset(blob) - 5], local_provider, CONTEXT)


def test_header_swapped_between_envelopes_fails(provider: KeyProvider) -> None:
    a = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    b = bytes(encrypt(b"another secret batch", provider, CONTEXT))
    swapped = a[: _body_offset(a)] + b[_body_offset(b) :]
    with pytest.raises(DecryptionFailed):
        decrypt(swapped, provider, CONTEXT)


def _with_header(blob: bytes, **changes: object) -> bytes:
    header = read_header(blob)
    fields = {**header.__dict__, **changes}
    return Header(**fields).encode() + blob[_body_offset(blob) :]  # type: ignore[arg-type]


def test_wrapped_key_swapped_fails(provider: KeyProvider) -> None:
    a = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    b = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    swapped = _with_header(a, wrapped_key=read_header(b).wrapped_key)
    with pytest.raises(DecryptionFailed):
        decrypt(swapped, provider, CONTEXT)
    other_dataset = {**CONTEXT, "dataset": "test"}
    c = bytes(encrypt(PLAINTEXT, provider, other_dataset))
    with pytest.raises(DecryptionFailed):  # wrapped under another key-service context: the service refuses
        decrypt(_with_header(a, wrapped_key=read_header(c).wrapped_key), provider, CONTEXT)


@pytest.mark.parametrize(
    "context",
    [
        {**CONTEXT, "batch": "000002"},
        {"silo": "aws", "dataset": "train"},
        {**CONTEXT, "extra": "x"},
        {},
    ],
    ids=["wrong-value", "missing-key", "extra-key", "empty"],
)
def test_wrong_context_fails_before_any_key_service_call(provider: KeyProvider, context: dict[str, str]) -> None:
    blob = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    calls = provider.calls
    with pytest.raises(ContextMismatch):
        decrypt(blob, provider, context)
    assert provider.calls == calls


def test_context_hash_rewritten_to_match_still_fails(provider: KeyProvider) -> None:
    """An attacker who also rewrites the header's hash to the new context hits GCM (or the service)."""
    from encryption.context import context_sha256

    other = {**CONTEXT, "batch": "000002"}
    blob = bytes(encrypt(PLAINTEXT, provider, CONTEXT))
    forged = _with_header(blob, context_sha256=context_sha256(other))
    with pytest.raises(DecryptionFailed):
        decrypt(forged, provider, other)


@pytest.mark.parametrize("context", [{"silo": ""}, {"silo": 1}, {"aws:x": "y"}, ["silo"]])
def test_invalid_context_is_refused(local_provider: LocalKeyProvider, context: object) -> None:
    with pytest.raises(InvalidContext):
        encrypt(b"x", local_provider, context)  # type: ignore[arg-type]


def test_other_provider_is_refused_before_unwrap(local_provider: LocalKeyProvider, key_file) -> None:  # type: ignore[no-untyped-def]
    blob = bytes(encrypt(PLAINTEXT, local_provider, CONTEXT))
    forged = _with_header(blob, provider="aws-kms")
    with pytest.raises(KeyServiceError, match="aws-kms"):
        decrypt(forged, local_provider, CONTEXT)


def test_errors_never_contain_key_bytes(local_provider: LocalKeyProvider) -> None:
    blob = bytes(encrypt(PLAINTEXT, local_provider, CONTEXT))
    header = read_header(blob)
    data_key = local_provider.unwrap_data_key(header.wrapped_key, header.key_id, CONTEXT)
    with pytest.raises(EnvelopeError) as info:
        decrypt(flip(blob, len(blob) - 1), local_provider, CONTEXT)
    text = repr(info.value) + str(info.value)
    assert data_key.hex() not in text and data_key.hex()[:16] not in text
    assert repr(data_key) not in text
