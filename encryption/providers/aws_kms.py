"""AWS KMS as the key service: GenerateDataKey / Decrypt / Encrypt with an EncryptionContext.

The endpoint is never an argument: boto3 reads ``AWS_ENDPOINT_URL`` (set by
``lab.localcloud`` for moto) or, in real-cloud mode, talks to AWS with its own
credential chain. The provider is *strict*: it opens only envelopes whose key id is
the key it was configured with (alias resolved to the key ARN once), and passes that
KeyId to Decrypt so KMS checks it too.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from encryption.context import key_service_context
from encryption.errors import DecryptionFailed, KeyServiceError
from encryption.format import KEY_BYTES
from encryption.providers.base import DataKey, KeyProvider
from lab.config import settings

#: KMS error codes that mean "this wrapped key does not open here" rather than "service trouble".
DECRYPT_FAILURE_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})


def kms_client() -> Any:
    """A KMS client for the configured region; the endpoint comes from the environment."""
    return boto3.client("kms", region_name=settings().aws_region, config=CLIENT_CONFIG)


def kms_call(client: Any, operation: str, key_id: str, **kwargs: Any) -> dict[str, Any]:
    """One KMS request with its errors mapped to the envelope errors (no data in messages)."""
    try:
        return dict(getattr(client, operation)(**kwargs))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        if code in DECRYPT_FAILURE_CODES:
            raise DecryptionFailed(
                f"AWS KMS {operation} refused the wrapped key under {key_id!r}: {code} "
                "(wrong key or context, or tampered)"
            ) from None
        raise KeyServiceError(f"AWS KMS {operation} on {key_id!r} failed: {code}") from None
    except BotoCoreError as exc:
        raise KeyServiceError(f"AWS KMS {operation} on {key_id!r} failed: {type(exc).__name__}") from None


class AwsKmsProvider(KeyProvider):
    """Data keys from AWS KMS (a symmetric key given by id, ARN or ``alias/...``)."""

    name = "aws-kms"

    def __init__(self, key_id: str, client: Any | None = None) -> None:
        if not key_id:
            raise KeyServiceError("aws-kms: a KMS key id, ARN or alias is required")
        self.key_id = key_id
        self._client = client
        self._arn: str | None = key_id if key_id.startswith("arn:") and ":key/" in key_id else None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = kms_client()
        return self._client

    def _kms(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        self._count_call()
        return kms_call(self.client, operation, self.key_id, **kwargs)

    def current_key_id(self) -> str:
        """The key ARN (resolved from an alias once, with DescribeKey)."""
        if self._arn is None:
            self._arn = str(self._kms("describe_key", KeyId=self.key_id)["KeyMetadata"]["Arn"])
        return self._arn

    @staticmethod
    def _context_kwargs(context: Mapping[str, str]) -> dict[str, Any]:
        ctx = key_service_context(context)
        return {"EncryptionContext": ctx} if ctx else {}

    def _data_key(self, plaintext: bytes, wrapped: bytes, key_id: str) -> DataKey:
        if self._arn is None and key_id.startswith("arn:"):
            self._arn = key_id
        return DataKey(plaintext=plaintext, wrapped=wrapped, key_id=key_id, provider=self.name)

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        resp = self._kms("generate_data_key", KeyId=self.key_id, KeySpec="AES_256", **self._context_kwargs(context))
        return self._data_key(bytes(resp["Plaintext"]), bytes(resp["CiphertextBlob"]), str(resp["KeyId"]))

    def wrap_data_key(self, plaintext: bytes, context: Mapping[str, str]) -> DataKey:
        if len(plaintext) != KEY_BYTES:
            raise KeyServiceError(f"aws-kms: data key must be {KEY_BYTES} bytes")
        resp = self._kms("encrypt", KeyId=self.key_id, Plaintext=bytes(plaintext), **self._context_kwargs(context))
        return self._data_key(bytes(plaintext), bytes(resp["CiphertextBlob"]), str(resp["KeyId"]))

    def unwrap_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        if key_id != self.key_id and key_id != self.current_key_id():
            raise KeyServiceError(
                f"aws-kms: envelope is under KMS key {key_id!r}; this provider is configured for {self.key_id!r}"
            )
        resp = self._kms(
            "decrypt",
            CiphertextBlob=bytes(wrapped),
            KeyId=key_id,
            EncryptionAlgorithm="SYMMETRIC_DEFAULT",
            **self._context_kwargs(context),
        )
        if str(resp.get("KeyId")) != key_id:
            raise DecryptionFailed(f"aws-kms: KMS opened the data key with another key than {key_id!r}")
        plaintext = bytes(resp["Plaintext"])
        if len(plaintext) != KEY_BYTES:
            raise DecryptionFailed("aws-kms: unwrapped data key has the wrong length")
        return plaintext
