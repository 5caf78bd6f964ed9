"""Asymmetric signing of model artifacts, with the private key held by a key service.

* ``KeyVaultSigner`` (default, ``LAB_MODEL_SIGNER=azure-keyvault``): an RSA-2048 Key Vault
  key, RS256 — "Key Vault stores model signing keys". The vault signs a SHA-256 digest; the
  private key never leaves it (the lab's Key Vault emulator locally, a real vault otherwise).
* ``KmsSigner`` (``aws-kms``): an AWS KMS ECC_NIST_P256 key, ECDSA_SHA_256, through boto3.
* ``LocalSigner`` (``local``): an Ed25519 key file in ``settings().keys_dir`` (offline, 0600).

Verification never asks the artifact which key to use: the signer pins its public key in
the operator's sealed trust store (``lab.trust``) when it signs, and a reader verifies
against that pin, locally, with ``verify_pinned``.
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
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

    def public_key_pem(self) -> str:
        """The verifying half, pinned in the trust store when the signer signs."""


def verify_pinned(public_key_pem: str, message: bytes, signature: bytes) -> None:
    """Check a signature with a pinned public key (Ed25519, RSA PKCS#1 v1.5 SHA-256 or ECDSA P-256 SHA-256)."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignatureError(f"pinned key type {type(key).__name__} is not supported")
    except InvalidSignature:
        raise SignatureError("model signature does not verify with the pinned key (tampered or re-signed)") from None


def _pem(key: Any) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


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

    def public_key_pem(self) -> str:
        return _pem(self.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def verify(self, message: bytes, signature: bytes) -> None:
        verify_pinned(self.public_key_pem(), message, signature)


class KmsSigner:
    """An AWS KMS ECC_NIST_P256 signing key, found (or created) by alias."""

    name = "aws-kms-ecdsa-p256"
    algorithm = "ECDSA_SHA_256"

    def __init__(self, alias: str | None = None, client: Any | None = None) -> None:
        import boto3

        self.client = client or boto3.client("kms", region_name=settings().aws_region)
        self.alias = alias or f"alias/{settings().model_signing_key}"
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

    def public_key_pem(self) -> str:
        der = self.client.get_public_key(KeyId=self.key_id)["PublicKey"]
        return _pem(serialization.load_der_public_key(bytes(der)))

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


class KeyVaultSigner:
    """An RSA Key Vault key (sign/verify only), found or created by name; RS256 over SHA-256.

    ``key_id`` is ``azure-keyvault:NAME/VERSION``: stable across emulator restarts (the
    vault URL of a local emulator changes with its port), and a rotation makes a new id."""

    name = "azure-keyvault-rs256"

    def __init__(self, key_name: str | None = None, vault_url: str | None = None, credential: Any | None = None) -> None:
        cfg = settings()
        self.key_name = key_name or cfg.model_signing_key
        url = vault_url or (cfg.azure_vault_url if cfg.azure_mode == "real" else os.environ.get("LAB_AZURE_VAULT_URL", ""))
        if not url.startswith("https://"):
            raise LabError("the Key Vault model signer needs the vault: start the local cloud "
                           "(`python -m lab up azure`), set LAB_AZURE_VAULT_URL in real mode, "
                           "or choose another signer (LAB_MODEL_SIGNER=local|aws-kms)")
        from azure.keyvault.keys import KeyClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        local = cfg.azure_mode != "real"
        self._kwargs: dict[str, Any] = {"connection_verify": os.environ.get("LAB_AZURE_CA_BUNDLE") or True,
                                        "verify_challenge_resource": not local}
        self.credential = credential
        self.client = KeyClient(url, credential, **self._kwargs)
        self.key = self._key()
        self.key_id = f"azure-keyvault:{self.key_name}/{self.key.properties.version}"

    def _key(self) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.client.get_key(self.key_name)
        except ResourceNotFoundError:
            return self.client.create_rsa_key(self.key_name, size=2048, key_operations=["sign", "verify"])
        except Exception as exc:  # noqa: BLE001 - azure-core raises many types; the message holds no key bytes
            raise LabError(f"Key Vault get_key {self.key_name!r} failed: {type(exc).__name__}") from None

    def public_key_pem(self) -> str:
        jwk = self.key.key
        numbers = rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big"))
        return _pem(numbers.public_key())

    def sign(self, message: bytes) -> bytes:
        from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm

        client = CryptographyClient(self.key, self.credential, **self._kwargs)
        try:
            return bytes(client.sign(SignatureAlgorithm.rs256, hashlib.sha256(message).digest()).signature)
        except Exception as exc:  # noqa: BLE001
            raise LabError(f"Key Vault sign with {self.key_id!r} failed: {type(exc).__name__}") from None

    def verify(self, message: bytes, signature: bytes) -> None:
        verify_pinned(self.public_key_pem(), message, signature)


@contextmanager
def signing_services(name: str = "") -> Iterator[None]:
    """Make sure the chosen signer's key service answers: the local Key Vault (and the identity
    endpoint its credential uses) is started for the block when no vault is reachable yet."""
    choice = settings().model_signer if name in ("", "configured") else name
    if choice != "azure-keyvault" or settings().azure_mode == "real" or os.environ.get("LAB_AZURE_VAULT_URL"):
        yield
        return
    from lab.localcloud import local_cloud

    with local_cloud("identity", "keyvault"):
        yield


SIGNERS = {"local": LocalSigner, "aws-kms": KmsSigner, "azure-keyvault": KeyVaultSigner}


def signer_for(name: str = "") -> Signer:
    """The signer chosen in the run config, or (``""`` / ``configured``) the lab's ``LAB_MODEL_SIGNER``."""
    choice = settings().model_signer if name in ("", "configured") else name
    if choice not in SIGNERS:
        raise LabError(f"unknown signer {choice!r}; expected one of {', '.join(SIGNERS)}")
    return SIGNERS[choice]()  # type: ignore[no-any-return]
