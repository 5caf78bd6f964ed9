"""Asymmetric signing of model artifacts, with the private key held by a key service.

* ``LocalSigner``: Ed25519 key in ``settings().keys_dir`` (offline default, 0600).
* ``KmsSigner``: an AWS KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256) through boto3;
  the private key never leaves KMS (moto's KMS on the local cloud, or real KMS).

Verification uses only the public half (Verify / the public key), so a reader that
cannot sign can still refuse a tampered or unsigned model.
"""
from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lab.cli import LabError
from lab.config import settings


class SignatureError(LabError):
    """A signature is missing, malformed or does not verify."""


class Signer(Protocol):
    name: str
    key_id: str

    def sign(self, message: bytes) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> None:
        """Return if valid; raise SignatureError otherwise."""


class LocalSigner:
    """Ed25519 signing key in a local file, created on first use."""

    name = "local-ed25519"

    def __init__(self, key_file: Path | None = None) -> None:
        self.key_file = key_file or settings().keys_dir / "fl-model-signing.key"
        self._key = self._load_or_create()
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = f"ed25519:{raw.hex()[:16]}"

    def _load_or_create(self) -> Ed25519PrivateKey:
        if self.key_file.exists():
            key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise LabError(f"{self.key_file} is not an Ed25519 key")
            return key
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        tmp = self.key_file.with_suffix(".tmp")
        tmp.touch(mode=stat.S_IRUSR | stat.S_IWUSR)
        tmp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        tmp.replace(self.key_file)
        return key

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def verify(self, message: bytes, signature: bytes) -> None:
        try:
            self.public_key().verify(signature, message)
        except InvalidSignature:
            raise SignatureError("model signature does not verify (tampered or signed by another key)") from None


class KmsSigner:
    """An AWS KMS ECC_NIST_P256 signing key, found (or created) by alias."""

    name = "aws-kms-ecdsa-p256"
    algorithm = "ECDSA_SHA_256"

    def __init__(self, alias: str | None = None, client: Any | None = None) -> None:
        import boto3

        self.client = client or boto3.client("kms", region_name=settings().aws_region)
        self.alias = alias or f"alias/{settings().name_prefix}-fl-model-signing"
        self.key_id = self._key_arn()

    def _key_arn(self) -> str:
        from botocore.exceptions import ClientError

        try:
            return str(self.client.describe_key(KeyId=self.alias)["KeyMetadata"]["Arn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException":
                raise LabError(f"KMS DescribeKey failed: {exc.response['Error']['Code']}") from None
        meta = self.client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY",
                                      Description="Secure AI lab: signs federated-learning models")["KeyMetadata"]
        self.client.create_alias(AliasName=self.alias, TargetKeyId=meta["KeyId"])
        return str(meta["Arn"])

    def sign(self, message: bytes) -> bytes:
        resp = self.client.sign(KeyId=self.key_id, Message=message, MessageType="RAW",
                                SigningAlgorithm=self.algorithm)
        return bytes(resp["Signature"])

    def verify(self, message: bytes, signature: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            ok = self.client.verify(KeyId=self.key_id, Message=message, MessageType="RAW",
                                    Signature=signature, SigningAlgorithm=self.algorithm)["SignatureValid"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("KMSInvalidSignatureException", "ValidationException"):
                ok = False
            else:
                raise LabError(f"KMS Verify failed: {exc.response['Error']['Code']}") from None
        if not ok:
            raise SignatureError("model signature does not verify with the KMS key")


def signer_for(name: str, key_id: str | None = None) -> Signer:
    """The signer named in an artifact header (or chosen on the command line)."""
    if name in ("local", LocalSigner.name):
        return LocalSigner()
    if name in ("aws-kms", KmsSigner.name):
        return KmsSigner(alias=key_id)
    raise LabError(f"unknown signer {name!r}; expected local or aws-kms")
