"""The byte format: strict parsing, canonical header, AAD coverage."""
from __future__ import annotations

import json
import struct

import pytest

from encryption.errors import MalformedEnvelope, UnsupportedVersion
from encryption.format import ALG, MAGIC, PREFIX, VERSION, Header, parse


def make_header(**overrides: object) -> Header:
    fields: dict[str, object] = dict(
        version=VERSION, alg=ALG, provider="local", key_id="abc/v1",
        wrapped_key=b"w" * 60, nonce=b"n" * 12, context_sha256=b"\xab" * 32,
    )
    fields.update(overrides)
    return Header(**fields)  # type: ignore[arg-type]


def test_header_round_trips_and_layout_is_as_documented() -> None:
    header = make_header()
    blob = header.encode() + b"\0" * 16
    parsed, offset = parse(blob)
    assert parsed == header
    assert blob[:4] == MAGIC and blob[4] == VERSION
    (length,) = struct.unpack(">I", blob[5:9])
    assert offset == 9 + length
    assert json.loads(blob[9:offset]) == header.to_json()


def test_aad_binds_nonce_and_context_but_not_wrapping_fields() -> None:
    base = make_header()
    assert base.aad() == MAGIC + bytes([VERSION]) + ALG.encode() + base.nonce + base.context_sha256
    rewrapped = make_header(provider="aws-kms", key_id="arn:aws:kms:x:key/y", wrapped_key=b"z" * 100)
    assert rewrapped.aad() == base.aad()
    assert make_header(nonce=b"m" * 12).aad() != base.aad()
    assert make_header(context_sha256=b"d" * 32).aad() != base.aad()


def _with_header_json(obj: dict[str, object], version: int = VERSION) -> bytes:
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return PREFIX.pack(MAGIC, version, len(raw)) + raw + b"\0" * 16


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.pop("nonce"),
        lambda h: h.update(extra="x"),
        lambda h: h.update(nonce="AAAA"),
        lambda h: h.update(wrapped_key="not base64!"),
        lambda h: h.update(context_sha256="00"),
        lambda h: h.update(context_sha256=h["context_sha256"].upper()),
        lambda h: h.update(key_id=""),
        lambda h: h.update(provider=7),
    ],
    ids=["missing", "extra", "short-nonce", "bad-b64", "short-hash", "non-canonical-hex", "empty-kid", "typed"],
)
def test_bad_headers_are_malformed(mutate) -> None:  # type: ignore[no-untyped-def]
    obj = make_header().to_json()
    mutate(obj)
    with pytest.raises(MalformedEnvelope):
        parse(_with_header_json(obj))


def test_non_canonical_json_is_rejected() -> None:
    raw = json.dumps(make_header().to_json(), indent=1).encode()
    with pytest.raises(MalformedEnvelope, match="canonical"):
        parse(PREFIX.pack(MAGIC, VERSION, len(raw)) + raw + b"\0" * 16)


def test_unknown_version_and_algorithm() -> None:
    with pytest.raises(UnsupportedVersion):
        parse(_with_header_json(make_header().to_json(), version=2))
    obj = make_header().to_json()
    obj["alg"] = "AES-128-CBC"
    with pytest.raises(UnsupportedVersion):
        parse(_with_header_json(obj))


@pytest.mark.parametrize("blob", [b"", b"SAIE", b"XXXX\x01\0\0\0\0", PREFIX.pack(MAGIC, 1, 10**6) + b"{}"])
def test_short_or_foreign_bytes(blob: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        parse(blob)
