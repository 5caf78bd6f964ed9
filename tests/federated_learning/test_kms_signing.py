"""signer=aws-kms (the option) and azure-keyvault (the default): a model signed inside the key
service, verified with the public key pinned in the trust store, never the one the file names."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from encryption.providers.local import LocalKeyProvider, create_key_file
from lab.localcloud import LocalCloud, local_cloud
from lab.trust import TrustFile
from securefl.artifact import read_model, verify_model, write_model
from securefl.provenance import Provenance
from securefl.signing import KeyVaultSigner, KmsSigner, SignatureError, signer_for
from securefl.task import Net, get_weights

BOUND = Provenance("run-kms", "c" * 64, "d" * 64)


@pytest.fixture()
def provider(tmp_path: Path) -> LocalKeyProvider:
    create_key_file(tmp_path / "kek.json")
    return LocalKeyProvider(tmp_path / "kek.json")


def test_kms_signed_model_verifies_and_refuses_tampering(aws_cloud: LocalCloud, tmp_path: Path,
                                                         provider: LocalKeyProvider) -> None:
    signer = KmsSigner(alias="alias/fl-test-signing")
    assert signer.key_id.startswith("arn:aws:kms:")
    assert KmsSigner(alias="alias/fl-test-signing").key_id == signer.key_id  # found again by alias, not re-created
    weights = get_weights(Net())
    path = write_model(tmp_path / "m.model", weights, signer, BOUND, provider)
    assert signer.key_id in TrustFile().model_keys()  # pinned when it signed
    header, _ = verify_model(path)  # verified with the pinned public key
    assert header["signer"] == "aws-kms-ecdsa-p256" and header["key_id"] == signer.key_id
    assert all((a == b).all() for a, b in zip(read_model(path, None, provider), weights))

    other = KmsSigner(alias="alias/fl-test-other")
    with pytest.raises(SignatureError, match="not the trusted"):
        verify_model(path, other)
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"shapes"') + 12
    raw[at] = ord("9") if raw[at] != ord("9") else ord("8")  # change the signed header
    path.write_bytes(bytes(raw))
    with pytest.raises(SignatureError):
        verify_model(path)


@pytest.fixture(scope="module")
def vault() -> Iterator[dict[str, str]]:
    with local_cloud("identity", "keyvault") as cloud:
        yield cloud.env


@pytest.mark.emulator
def test_key_vault_signs_by_default(vault: dict[str, str], tmp_path: Path, provider: LocalKeyProvider) -> None:
    signer = signer_for("configured")
    assert isinstance(signer, KeyVaultSigner) and signer.key_id.startswith("azure-keyvault:")
    weights = get_weights(Net())
    path = write_model(tmp_path / "m.model", weights, signer, BOUND, provider)
    header, _ = verify_model(path)
    assert header["signer"] == "azure-keyvault-rs256"
    assert all((a == b).all() for a, b in zip(read_model(path, None, provider), weights))
    assert KeyVaultSigner().key_id == signer.key_id  # found again by name, not re-created
    raw = path.read_bytes().replace(b'"run-kms"', b'"run-xxx"', 1)
    path.write_bytes(raw)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_model(path)
