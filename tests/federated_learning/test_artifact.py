"""The model at rest: encrypted, signed with provenance, refused when tampered, unsigned,
re-signed with a key the trust store does not pin, or older than the newest accepted."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from encryption.providers.local import LocalKeyProvider, create_key_file
from lab.cli import LabError
from securefl.artifact import MAGIC, read_model, verify_model, write_model
from securefl.provenance import Provenance, VersionLedger, config_digest, data_digest
from securefl.signing import LocalSigner, SignatureError
from securefl.task import Net, get_weights, load_model

BOUND = Provenance("run-1", "c" * 64, "d" * 64)


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, LocalSigner, LocalKeyProvider, list[np.ndarray]]:
    create_key_file(tmp_path / "kek.json")
    provider = LocalKeyProvider(tmp_path / "kek.json")
    signer = LocalSigner(tmp_path / "sign.key")
    weights = get_weights(Net())
    path = write_model(tmp_path / "m.model", weights, signer, BOUND, provider)
    return path, signer, provider, weights


def header_of(path: Path) -> dict[str, object]:
    return json.loads(path.read_bytes()[len(MAGIC):].split(b"\n", 1)[0])


def test_roundtrip_binds_provenance_and_ciphertext(setup: tuple) -> None:
    path, signer, provider, weights = setup
    got = read_model(path, None, provider)  # verified with the key pinned in the trust store
    assert all(np.array_equal(a, b) for a, b in zip(got, weights))
    assert weights[0].tobytes()[:64] not in path.read_bytes()  # weights are not stored in clear
    header = header_of(path)
    assert (header["run_id"], header["config_sha256"], header["data_sha256"]) == ("run-1", "c" * 64, "d" * 64)
    assert isinstance(header["version"], int) and header["version"] >= 1


def test_tampered_body_is_refused_before_decryption(setup: tuple) -> None:
    path, signer, provider, _ = setup
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(SignatureError, match="tampered"):
        read_model(path, signer, provider)


@pytest.mark.parametrize("field", ["run_id", "data_sha256", "config_sha256", "version"])
def test_changing_a_bound_field_is_refused(setup: tuple, field: str) -> None:
    path, _, provider, _ = setup
    header = header_of(path)
    header[field] = 999 if field == "version" else "e" * 64
    head, body = path.read_bytes()[len(MAGIC):].split(b"\n", 1)
    path.write_bytes(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body)
    with pytest.raises(SignatureError, match="does not verify"):
        read_model(path, None, provider)


def test_unsigned_and_unbound_models_are_refused(setup: tuple, tmp_path: Path) -> None:
    path, signer, provider, _ = setup
    bare = tmp_path / "bare.model"
    bare.write_bytes(path.read_bytes().split(b"\n", 2)[2])
    with pytest.raises(SignatureError, match="not a signed"):
        read_model(bare, signer, provider)
    nosig = tmp_path / "nosig.model"
    nosig.write_bytes(MAGIC + b'{"signer": "local-ed25519"}\n' + b"x")
    with pytest.raises(SignatureError, match="no signature"):
        read_model(nosig, signer, provider)
    unbound = tmp_path / "unbound.model"
    unbound.write_bytes(MAGIC + b'{"signer": "local-ed25519", "signature": "AA=="}\n' + b"x")
    with pytest.raises(SignatureError, match="does not bind"):
        read_model(unbound, signer, provider)


def test_a_model_re_signed_with_another_key_is_refused(setup: tuple, tmp_path: Path) -> None:
    """The attacker's key is not pinned by the operator, whatever the header says."""
    path, signer, provider, weights = setup
    attacker = LocalSigner(tmp_path / "attacker.key")
    forged = tmp_path / "forged.model"
    # the attacker's signer would pin itself through write_model; build the file by hand, as an attacker would
    header = header_of(path)
    header.update({"key_id": attacker.key_id, "version": 10**6})
    from securefl.artifact import _signed_bytes

    import base64

    header["signature"] = base64.b64encode(attacker.sign(_signed_bytes(header))).decode()
    body = path.read_bytes()[len(MAGIC):].split(b"\n", 1)[1]
    forged.write_bytes(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body)
    with pytest.raises(SignatureError, match="does not pin"):
        read_model(forged, None, provider)
    header["key_id"] = signer.key_id  # claim the real key id: the pinned key does not verify it
    forged.write_bytes(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body)
    with pytest.raises(SignatureError, match="does not verify"):
        read_model(forged, None, provider)
    with pytest.raises(SignatureError, match="signed by key"):
        read_model(path, attacker, provider)  # an explicit verifier must be the signing key too


def test_an_older_model_is_refused_after_a_newer_one_was_accepted(tmp_path: Path) -> None:
    create_key_file(tmp_path / "kek.json")
    provider = LocalKeyProvider(tmp_path / "kek.json")
    signer, weights = LocalSigner(tmp_path / "sign.key"), get_weights(Net())
    ledger = VersionLedger(tmp_path / "ledger.json")
    old = write_model(tmp_path / "old.model", weights, signer, BOUND, provider, ledger=ledger)
    new = write_model(tmp_path / "new.model", weights, signer, BOUND, provider, ledger=ledger)
    read_model(new, None, provider, ledger)
    current = tmp_path / "fl_global.model"
    current.write_bytes(old.read_bytes())  # the rollback: an old, validly signed model copied over
    with pytest.raises(SignatureError, match="rollback refused"):
        read_model(current, None, provider, ledger)
    assert VersionLedger(tmp_path / "ledger.json").newest_accepted() == header_of(new)["version"]  # it lasts
    with pytest.raises(SignatureError, match="rollback"):
        verify_model(current, None, VersionLedger(tmp_path / "ledger.json"))


def test_digests_change_with_the_data_and_the_config() -> None:
    from securefl.data import SILOS, packaged_source

    base = data_digest(packaged_source, SILOS)
    assert base == data_digest(packaged_source, SILOS)

    def one_label_changed(silo: str):  # noqa: ANN202
        data = packaged_source(silo)
        y = data.y.copy()
        y[0] = (y[0] + 1) % 10
        return type(data)(data.x, y, data.ids)

    assert data_digest(one_label_changed, SILOS) != base
    assert config_digest({"a": 1, "b": 2}) == config_digest({"b": 2, "a": 1}) != config_digest({"a": 1, "b": 3})


def test_load_model_predicts(setup: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    path, signer, provider, _ = setup
    import securefl.artifact as artifact

    monkeypatch.setattr(artifact, "_provider", lambda p: provider)
    model = load_model(path, signer)
    assert model.predict(np.zeros((3, 64), dtype=np.float32)).shape == (3,)
    with pytest.raises(LabError, match="no model"):
        load_model(path.with_name("missing.model"), signer)
