"""AzureKeyVaultProvider (encryption/providers/azure_keyvault.py) against the Key Vault emulator."""
from __future__ import annotations

import pytest

from encryption.envelope import decrypt, encrypt
from encryption.errors import DecryptionFailed, EnvelopeError, KeyServiceError
from encryption.providers.azure_keyvault import AzureKeyVaultProvider
from ingestion.azure.clients import azure_endpoints
from ingestion.azure.provision import ensure_key, key_client
from lab.localcloud import LocalCloud

pytestmark = pytest.mark.emulator
CTX = {"silo": "azure", "dataset": "digits", "batch": "p0-000000000001"}


@pytest.fixture(scope="module")
def provider(azure_cloud: LocalCloud) -> AzureKeyVaultProvider:
    ep = azure_endpoints()
    ensure_key(key_client(ep), "provider-test")
    return AzureKeyVaultProvider(ep.vault_url, "provider-test", connection_verify=ep.verify())  # DefaultAzureCredential


def test_round_trip_binds_context_only_through_the_envelope(provider: AzureKeyVaultProvider) -> None:
    blob = encrypt(b"secret rows", provider, CTX)
    assert decrypt(blob, provider, CTX) == b"secret rows"
    with pytest.raises(EnvelopeError):
        decrypt(blob, provider, {**CTX, "dataset": "other"})
    key = provider.generate_data_key(CTX)
    assert key.key_id.startswith(provider.vault_url + "/keys/provider-test/")
    # Key Vault itself ignores the context: the wrapped key opens under any context.
    assert provider.unwrap_data_key(key.wrapped, key.key_id, {"silo": "elsewhere"}) == key.plaintext


def test_tampered_wrapped_key_and_foreign_key_ids_fail(provider: AzureKeyVaultProvider) -> None:
    key = provider.generate_data_key(CTX)
    bad = bytearray(key.wrapped)
    bad[0] ^= 1
    calls = provider.calls
    with pytest.raises(DecryptionFailed):
        provider.unwrap_data_key(bytes(bad), key.key_id, CTX)
    assert provider.calls == calls + 1
    with pytest.raises(KeyServiceError):
        provider.unwrap_data_key(key.wrapped, key.key_id.replace("provider-test", "another-key"), CTX)
    with pytest.raises(KeyServiceError):
        provider.unwrap_data_key(key.wrapped, "https://evil.example/keys/provider-test/abc", CTX)
    with pytest.raises(KeyServiceError):
        provider.unwrap_data_key(key.wrapped, provider.vault_url + "/keys/provider-test/" + "0" * 32, CTX)


def test_rotation_new_version_for_new_keys_old_still_unwraps(provider: AzureKeyVaultProvider) -> None:
    before = provider.generate_data_key(CTX)
    key_client(azure_endpoints()).rotate_key("provider-test")
    provider.refresh()
    after = provider.generate_data_key(CTX)
    assert after.key_id != before.key_id
    assert provider.unwrap_data_key(before.wrapped, before.key_id, CTX) == before.plaintext


def test_configuration_errors() -> None:
    with pytest.raises(KeyServiceError):
        AzureKeyVaultProvider("http://127.0.0.1:1", "k", credential=object())
    with pytest.raises(KeyServiceError):
        AzureKeyVaultProvider("https://127.0.0.1:1", "k", credential=object(), connection_verify=False)
    with pytest.raises(KeyServiceError):
        AzureKeyVaultProvider("https://127.0.0.1:1", "", credential=object())
