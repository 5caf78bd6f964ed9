"""Key Vault emulator: sign/verify (model signing keys) and disabled versions, with the real SDK."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm, SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lab.localcloud import local_cloud

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def vault() -> Iterator[dict[str, str]]:
    with local_cloud("identity", "keyvault") as cloud:
        yield cloud.env


def _kwargs(vault: dict[str, str]) -> dict[str, object]:
    return {"connection_verify": vault["LAB_AZURE_CA_BUNDLE"], "verify_challenge_resource": False}


@pytest.fixture(scope="module")
def client(vault: dict[str, str]) -> KeyClient:
    return KeyClient(vault["LAB_AZURE_VAULT_URL"], DefaultAzureCredential(), **_kwargs(vault))


def test_sign_in_the_vault_verify_with_the_public_key(vault: dict[str, str], client: KeyClient) -> None:
    key = client.create_rsa_key("sign-test", size=2048, key_operations=["sign", "verify"])
    crypto = CryptographyClient(key.id, DefaultAzureCredential(), **_kwargs(vault))
    digest = hashlib.sha256(b"model header").digest()
    signature = crypto.sign(SignatureAlgorithm.rs256, digest).signature
    public = rsa.RSAPublicNumbers(int.from_bytes(key.key.e, "big"), int.from_bytes(key.key.n, "big")).public_key()
    public.verify(signature, b"model header", padding.PKCS1v15(), hashes.SHA256())  # raises if wrong
    assert crypto.verify(SignatureAlgorithm.rs256, digest, signature).is_valid
    assert not crypto.verify(SignatureAlgorithm.rs256, hashlib.sha256(b"other").digest(), signature).is_valid
    wrap_only = client.create_rsa_key("wrap-only", size=2048, key_operations=["wrapKey", "unwrapKey"])
    with pytest.raises(HttpResponseError) as info:
        CryptographyClient(wrap_only.id, DefaultAzureCredential(), **_kwargs(vault)).sign(SignatureAlgorithm.rs256,
                                                                                        digest)
    assert info.value.status_code == 403


def test_a_disabled_version_refuses_unwrap_and_sign(vault: dict[str, str], client: KeyClient) -> None:
    key = client.create_rsa_key("disable-test", size=2048,
                                key_operations=["wrapKey", "unwrapKey", "sign", "verify"])
    crypto = CryptographyClient(key.id, DefaultAzureCredential(), **_kwargs(vault))
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32).encrypted_key
    client.update_key_properties("disable-test", version=key.properties.version, enabled=False)
    fresh = CryptographyClient(key.id, DefaultAzureCredential(), **_kwargs(vault))
    for call in (lambda: fresh.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped),
                 lambda: fresh.sign(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest())):
        with pytest.raises(HttpResponseError) as info:
            call()
        assert info.value.status_code == 403
