"""Cloud KMS as the key service: a local data key wrapped by Cloud KMS Encrypt, with AAD.

Cloud KMS has no GenerateDataKey, so the data key comes from the OS CSPRNG and
Cloud KMS only wraps it. The key-service context (canonical JSON) is passed as
``additional_authenticated_data``: the wrapped key opens only with the same
context. The key id written into envelopes is the crypto key *version* that
Encrypt reports, so after a rotation old envelopes still say which version
sealed them (Decrypt itself picks the version from the ciphertext).

Client: against the lab's emulator (``LAB_GCP_KMS_ENDPOINT`` set by
``lab.localcloud``) a gRPC channel with local credentials (loopback only, no TLS)
carrying a bearer token from google.auth credentials fed by the lab's token
endpoint (``lab.localcloud.gcp.local_credentials``), exactly as the SDK sends its
tokens; otherwise the default client (TLS, Application Default Credentials).
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any

from google.api_core import exceptions as gexc

from encryption.context import canonical_context, key_service_context
from encryption.errors import DecryptionFailed, KeyServiceError
from encryption.format import KEY_BYTES
from encryption.providers.base import DataKey, KeyProvider, new_data_key
from lab.localcloud.gcp import KMS_ENDPOINT_VAR, local_credentials

#: gRPC codes meaning "this wrapped key does not open here" rather than "service trouble".
DECRYPT_FAILURES = (gexc.InvalidArgument,)
CALL_TIMEOUT_S = 30.0


def _loopback_only(endpoint: str) -> str:
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise KeyServiceError(
            f"{KMS_ENDPOINT_VAR}={endpoint!r}: an insecure channel is allowed to a loopback emulator only"
        )
    return endpoint


def kms_client(credentials: Any | None = None, endpoint: str | None = None) -> Any:
    """A KeyManagementServiceClient: the lab's emulator when its endpoint is set, else real Cloud KMS.

    credentials: google.auth credentials (default: the local token endpoint's for the
    emulator, Application Default Credentials for the real service)."""
    from google.cloud import kms_v1

    endpoint = endpoint or os.environ.get(KMS_ENDPOINT_VAR)
    if not endpoint:
        return kms_v1.KeyManagementServiceClient(credentials=credentials)
    import grpc
    from google.auth.transport.grpc import secure_authorized_channel
    from google.auth.transport.requests import Request
    from google.cloud.kms_v1.services.key_management_service.transports import KeyManagementServiceGrpcTransport

    target = _loopback_only(endpoint)
    channel = secure_authorized_channel(
        credentials or local_credentials(), Request(), target,
        ssl_credentials=grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP))
    return kms_v1.KeyManagementServiceClient(transport=KeyManagementServiceGrpcTransport(channel=channel))


def crypto_key_of(name: str) -> str:
    """The crypto key name of a key or key-version resource name."""
    return name.split("/cryptoKeyVersions/", 1)[0]


class GcpKmsProvider(KeyProvider):
    """Data keys wrapped by one Cloud KMS ENCRYPT_DECRYPT key (``projects/…/cryptoKeys/NAME``)."""

    name = "gcp-kms"

    def __init__(self, key_name: str, client: Any | None = None) -> None:
        if not key_name or "/cryptoKeys/" not in key_name or "/cryptoKeyVersions/" in key_name:
            raise KeyServiceError("gcp-kms: a crypto key name projects/…/locations/…/keyRings/…/cryptoKeys/… is required")
        self.key_name = key_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = kms_client()
        return self._client

    def _kms(self, operation: str, request: dict[str, Any]) -> Any:
        """One Cloud KMS request with errors mapped to the envelope errors (no data in messages)."""
        self._count_call()
        try:
            return getattr(self.client, operation)(request=request, timeout=CALL_TIMEOUT_S)
        except DECRYPT_FAILURES as exc:
            raise DecryptionFailed(
                f"Cloud KMS {operation} refused the wrapped key under {self.key_name!r}: "
                f"{type(exc).__name__} (wrong key or context, or tampered)"
            ) from None
        except gexc.GoogleAPIError as exc:
            raise KeyServiceError(f"Cloud KMS {operation} on {self.key_name!r} failed: {type(exc).__name__}") from None

    @staticmethod
    def _aad(context: Mapping[str, str]) -> bytes:
        return canonical_context(key_service_context(context))

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        return self.wrap_data_key(new_data_key(), context)

    def wrap_data_key(self, plaintext: bytes, context: Mapping[str, str]) -> DataKey:
        if len(plaintext) != KEY_BYTES:
            raise KeyServiceError(f"gcp-kms: data key must be {KEY_BYTES} bytes")
        resp = self._kms(
            "encrypt",
            {"name": self.key_name, "plaintext": bytes(plaintext), "additional_authenticated_data": self._aad(context)},
        )
        if crypto_key_of(resp.name) != self.key_name:
            raise KeyServiceError(f"gcp-kms: Encrypt answered for another key than {self.key_name!r}")
        return DataKey(plaintext=bytes(plaintext), wrapped=bytes(resp.ciphertext), key_id=resp.name, provider=self.name)

    def unwrap_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        if crypto_key_of(key_id) != self.key_name:
            raise KeyServiceError(
                f"gcp-kms: envelope is under {key_id!r}; this provider is configured for {self.key_name!r}"
            )
        resp = self._kms(
            "decrypt",
            {"name": self.key_name, "ciphertext": bytes(wrapped), "additional_authenticated_data": self._aad(context)},
        )
        plaintext = bytes(resp.plaintext)
        if len(plaintext) != KEY_BYTES:
            raise DecryptionFailed("gcp-kms: unwrapped data key has the wrong length")
        return plaintext

    def current_key_id(self) -> str:
        """The primary version's name (one GetCryptoKey call)."""
        return str(self._kms("get_crypto_key", {"name": self.key_name}).primary.name)
