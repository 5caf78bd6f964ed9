"""signer=aws-kms: the model is signed with a KMS ECC_NIST_P256 key (moto server over HTTP)."""
from __future__ import annotations

from pathlib import Path

import pytest

from encryption.providers.local import LocalKeyProvider, create_key_file
from lab.localcloud import LocalCloud
from securefl.artifact import read_model, verify_model, write_model
from securefl.signing import KmsSigner, SignatureError, signer_for
from securefl.task import Net, get_weights


def test_kms_signed_model_verifies_and_refuses_tampering(aws_cloud: LocalCloud, tmp_path: Path) -> None:
    create_key_file(tmp_path / "kek.json")
    provider = LocalKeyProvider(tmp_path / "kek.json")
    signer = KmsSigner(alias="alias/fl-test-signing")
    assert signer.key_id.startswith("arn:aws:kms:")
    assert KmsSigner(alias="alias/fl-test-signing").key_id == signer.key_id  # found again by alias, not re-created
    weights = get_weights(Net())
    path = write_model(tmp_path / "m.model", weights, signer, provider)
    header, _ = verify_model(path)  # verifier chosen from the header: KMS key by ARN
    assert header["signer"] == "aws-kms-ecdsa-p256" and header["key_id"] == signer.key_id
    assert all((a == b).all() for a, b in zip(read_model(path, None, provider), weights))
    assert signer_for("aws-kms", signer.key_id).key_id == signer.key_id

    other = KmsSigner(alias="alias/fl-test-other")
    with pytest.raises(SignatureError, match="not the trusted"):
        verify_model(path, other)
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"shapes"') + 12
    raw[at] = ord("9") if raw[at] != ord("9") else ord("8")  # change the signed header
    path.write_bytes(bytes(raw))
    with pytest.raises(SignatureError):
        verify_model(path)
