"""The model at rest: encrypted, signed, and refused when tampered or unsigned."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from encryption.providers.local import LocalKeyProvider, create_key_file
from lab.cli import LabError
from securefl.artifact import MAGIC, read_model, write_model
from securefl.signing import LocalSigner, SignatureError
from securefl.task import Net, get_weights, load_model


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, LocalSigner, LocalKeyProvider, list[np.ndarray]]:
    create_key_file(tmp_path / "kek.json")
    provider = LocalKeyProvider(tmp_path / "kek.json")
    signer = LocalSigner(tmp_path / "sign.key")
    weights = get_weights(Net())
    path = write_model(tmp_path / "m.model", weights, signer, provider)
    return path, signer, provider, weights


def test_roundtrip_and_ciphertext(setup: tuple) -> None:
    path, signer, provider, weights = setup
    got = read_model(path, signer, provider)
    assert all(np.array_equal(a, b) for a, b in zip(got, weights))
    assert weights[0].tobytes()[:64] not in path.read_bytes()  # weights are not stored in clear


def test_tampered_body_is_refused_before_decryption(setup: tuple) -> None:
    path, signer, provider, _ = setup
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(SignatureError, match="tampered"):
        read_model(path, signer, provider)


def test_tampered_header_is_refused(setup: tuple) -> None:
    path, signer, provider, _ = setup
    path.write_bytes(path.read_bytes().replace(b'"final_accuracy"', b'"final_accuracz"', 1)
                     if b"final_accuracy" in path.read_bytes() else path.read_bytes().replace(b'"shapes"', b'"shapez"'))
    with pytest.raises(SignatureError):
        read_model(path, signer, provider)


def test_unsigned_and_foreign_models_are_refused(setup: tuple, tmp_path: Path) -> None:
    path, signer, provider, weights = setup
    bare = tmp_path / "bare.model"
    bare.write_bytes(path.read_bytes().split(b"\n", 2)[2])
    with pytest.raises(SignatureError, match="not a signed"):
        read_model(bare, signer, provider)
    nosig = tmp_path / "nosig.model"
    nosig.write_bytes(MAGIC + b'{"signer": "local-ed25519"}\n' + b"x")
    with pytest.raises(SignatureError, match="no signature"):
        read_model(nosig, signer, provider)
    rogue = write_model(tmp_path / "rogue.model", weights, LocalSigner(tmp_path / "rogue.key"), provider)
    with pytest.raises(SignatureError, match="signed by key"):
        read_model(rogue, signer, provider)


def test_load_model_predicts(setup: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    path, signer, provider, _ = setup
    import securefl.artifact as artifact

    monkeypatch.setattr(artifact, "_provider", lambda p: provider)
    model = load_model(path, signer)
    assert model.predict(np.zeros((3, 64), dtype=np.float32)).shape == (3,)
    with pytest.raises(LabError, match="no model"):
        load_model(path.with_name("missing.model"), signer)
