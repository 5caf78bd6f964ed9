"""Azure Key Vault as the key service: a local data key wrapped with an RSA key (RSA-OAEP-256).

Key Vault keys have no GenerateDataKey, so the 32-byte data key comes from the OS
CSPRNG. Wrapping uses the key's *public* half locally (``CryptographyClient``
does this itself when it may read the key), so producing envelopes costs no
vault call after the first; unwrapping is always a ``unwrapKey`` call, because
the private half never leaves the vault.

Encryption context: Key Vault's wrap/unwrap takes no associated data, so the
context is NOT bound by the key service here (unlike AWS KMS EncryptionContext
or Cloud KMS AAD). It is bound only by the envelope's AES-GCM associated data
(the context hash in the header): a wrapped key moved to another envelope still
unwraps, but the body does not decrypt under another context.

Key ids are the full versioned key ids (``https://VAULT/keys/NAME/VERSION``), so
after a rotation envelopes sealed under an old version still unwrap with it.

Credential: DefaultAzureCredential by default (locally it reaches the lab's
managed-identity emulator). TLS is always verified: ``connection_verify`` is the
lab CA for the local emulator, the system store otherwise.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from encryption.errors import DecryptionFailed, KeyServiceError
from encryption.format import KEY_BYTES
from encryption.providers.base import DataKey, KeyProvider, new_data_key

WRAP_ALGORITHM = "RSA-OAEP-256"


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class AzureKeyVaultProvider(KeyProvider):
    """Data keys wrapped by one Key Vault RSA key (``vault_url`` + ``key_name``)."""

    name = "azure-keyvault"

    def __init__(self, vault_url: str, key_name: str, credential: Any | None = None,
                 connection_verify: bool | str = True) -> None:
        if not vault_url.startswith("https://"):
            raise KeyServiceError("azure-keyvault: the vault URL must be https://")
        if not key_name:
            raise KeyServiceError("azure-keyvault: a key name is required")
        if connection_verify is False:
            raise KeyServiceError("azure-keyvault: TLS verification cannot be turned off")
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        self.vault_url, self.key_name, self.credential = vault_url.rstrip("/"), key_name, credential
        # The vault's challenge names resource https://vault.azure.net; only a loopback emulator
        # may answer for a host outside that domain.
        self._client_kwargs: dict[str, Any] = {
            "connection_verify": connection_verify,
            "verify_challenge_resource": not _loopback(vault_url),
        }
        self._key_client: Any = None
        self._crypto: dict[str, Any] = {}

    @property
    def key_client(self) -> Any:
        if self._key_client is None:
            from azure.keyvault.keys import KeyClient

            self._key_client = KeyClient(self.vault_url, self.credential, **self._client_kwargs)
        return self._key_client

    def _crypto_client(self, key_id: str) -> Any:
        if key_id not in self._crypto:
            from azure.keyvault.keys.crypto import CryptographyClient

            self._crypto[key_id] = CryptographyClient(key_id, self.credential, **self._client_kwargs)
        return self._crypto[key_id]

    def _local_id(self, key_id: str) -> str:
        """The id to unwrap with: key_id itself, or for a loopback emulator the same version at its current port.

        A loopback emulator gets a new port each start, so only the key name and version
        are compared there; against a real vault the whole URL must match.
        """
        parts = urlsplit(key_id)
        segments = parts.path.strip("/").split("/")
        same_vault = f"{parts.scheme}://{parts.netloc}" == self.vault_url or (
            _loopback(self.vault_url) and _loopback(key_id))
        if not same_vault or len(segments) != 3 or segments[:2] != ["keys", self.key_name]:
            raise KeyServiceError(
                f"azure-keyvault: envelope is under {key_id!r}; this provider is for {self.vault_url}/keys/{self.key_name}"
            )
        return f"{self.vault_url}/keys/{self.key_name}/{segments[2]}"

    def current_key_id(self) -> str:
        """The latest version's full id (one GetKey call)."""
        self._count_call()
        try:
            return str(self.key_client.get_key(self.key_name).id)
        except Exception as exc:  # noqa: BLE001 - azure-core raises many types; message has no key bytes
            raise KeyServiceError(f"Key Vault get_key {self.key_name!r} failed: {type(exc).__name__}") from None

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        return self.wrap_data_key(new_data_key(), context)

    def wrap_data_key(self, plaintext: bytes, context: Mapping[str, str]) -> DataKey:
        if len(plaintext) != KEY_BYTES:
            raise KeyServiceError(f"azure-keyvault: data key must be {KEY_BYTES} bytes")
        key_id = self._current_id_cached()
        client = self._crypto_client(key_id)
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        try:
            result = client.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, bytes(plaintext))
        except Exception as exc:  # noqa: BLE001
            raise KeyServiceError(f"Key Vault wrapKey under {key_id!r} failed: {type(exc).__name__}") from None
        if result.key_id != key_id:
            raise KeyServiceError(f"azure-keyvault: wrapKey answered for {result.key_id!r}, not {key_id!r}")
        return DataKey(plaintext=bytes(plaintext), wrapped=bytes(result.encrypted_key), key_id=key_id,
                       provider=self.name)

    def unwrap_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        key_id = self._local_id(key_id)
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        self._count_call()
        try:
            result = self._crypto_client(key_id).unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, bytes(wrapped))
        except ResourceNotFoundError:
            raise KeyServiceError(f"Key Vault does not know {key_id!r}") from None
        except HttpResponseError as exc:
            if exc.status_code == 400:
                raise DecryptionFailed(
                    f"Key Vault unwrapKey refused the wrapped key under {key_id!r} (wrong key or tampered)"
                ) from None
            raise KeyServiceError(f"Key Vault unwrapKey under {key_id!r} failed: HTTP {exc.status_code}") from None
        except Exception as exc:  # noqa: BLE001
            raise KeyServiceError(f"Key Vault unwrapKey under {key_id!r} failed: {type(exc).__name__}") from None
        plaintext = bytes(result.key)
        if len(plaintext) != KEY_BYTES:
            raise DecryptionFailed("azure-keyvault: unwrapped data key has the wrong length")
        return plaintext

    # The current version is looked up once and then after refresh(); a rotation elsewhere is
    # picked up by refresh() (the ingest step calls it at start), as a cache would.
    _current: str | None = None

    def _current_id_cached(self) -> str:
        if self._current is None:
            self._current = self.current_key_id()
        return self._current

    def refresh(self) -> None:
        """Forget the cached current version (call after rotating the key)."""
        self._current = None
