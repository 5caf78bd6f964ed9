"""The Key Vault emulator, with the real azure-keyvault-keys client over HTTPS."""
from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.keyvault.keys import KeyClient, KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

from tests.lab.emulators import forge
from tests.lab.emulators.forge import azure_token as make_token
from lab.localcloud import local_cloud

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def vault() -> Iterator[dict[str, str]]:
    with local_cloud("identity", "keyvault") as cloud:
        yield cloud.env


@pytest.fixture(scope="module")
def client(vault: dict[str, str]) -> KeyClient:
    return KeyClient(vault["LAB_AZURE_VAULT_URL"], DefaultAzureCredential(),
                     connection_verify=vault["LAB_AZURE_CA_BUNDLE"], verify_challenge_resource=False)


def _raw(vault: dict[str, str], path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=vault["LAB_AZURE_CA_BUNDLE"])
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(vault["LAB_AZURE_VAULT_URL"] + path, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as resp:  # noqa: S310
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_challenge_and_token_audience(vault: dict[str, str]) -> None:
    status, headers, _ = _raw(vault, "/keys/any?api-version=7.6")
    assert status == 401
    assert 'resource="https://vault.azure.net"' in headers["WWW-Authenticate"]
    wrong_audience, _ = make_token("https://storage.azure.com")
    assert _raw(vault, "/keys/any?api-version=7.6", wrong_audience)[0] == 401
    expired, _ = make_token("https://vault.azure.net", now=0)
    assert _raw(vault, "/keys/any?api-version=7.6", expired)[0] == 401
    good, _ = make_token("https://vault.azure.net")
    status, _, body = _raw(vault, "/keys/any?api-version=7.6", good)
    assert status == 404 and b"KeyNotFound" in body


def test_tls_is_verified_against_the_lab_ca_only(vault: dict[str, str]) -> None:
    strict = KeyClient(vault["LAB_AZURE_VAULT_URL"], DefaultAzureCredential(), verify_challenge_resource=False)
    with pytest.raises(Exception, match="(?i)certificate|ssl"):
        strict.get_key("anything")


def test_create_get_versions_rotate_and_policy(client: KeyClient) -> None:
    key = client.create_rsa_key("kv-test-1", size=2048, key_operations=["wrapKey", "unwrapKey"])
    assert key.key_type == "RSA" and key.key.n and key.properties.version
    assert client.get_key("kv-test-1").id == key.id
    rotated = client.rotate_key("kv-test-1")
    assert rotated.properties.version != key.properties.version
    assert client.get_key("kv-test-1").id == rotated.id
    assert client.get_key("kv-test-1", version=key.properties.version).id == key.id
    versions = {v.version for v in client.list_properties_of_key_versions("kv-test-1")}
    assert versions == {key.properties.version, rotated.properties.version}
    default = client.get_key_rotation_policy("kv-test-1")
    assert default.lifetime_actions[0].action == KeyRotationPolicyAction.notify
    policy = client.update_key_rotation_policy("kv-test-1", KeyRotationPolicy(
        expires_in="P1Y", lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate,
                                                                      time_after_create="P90D")]))
    assert policy.expires_in == "P1Y"
    again = client.get_key_rotation_policy("kv-test-1")
    assert again.lifetime_actions[0].action == KeyRotationPolicyAction.rotate
    assert again.lifetime_actions[0].time_after_create == "P90D"


def test_errors_are_shaped_like_key_vault(client: KeyClient) -> None:
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_key("no-such-key")
    assert missing.value.error is not None and missing.value.error.code == "KeyNotFound"
    with pytest.raises(HttpResponseError) as bad:
        client.create_key("kv-test-ec", "EC")
    assert bad.value.status_code == 400 and bad.value.error.code == "BadParameter"
    with pytest.raises(HttpResponseError) as bad_policy:
        client.update_key_rotation_policy("no-such-key", KeyRotationPolicy(lifetime_actions=[]))
    assert bad_policy.value.status_code == 404


def test_wrap_locally_unwrap_remotely_and_tamper(vault: dict[str, str], client: KeyClient) -> None:
    key = client.create_rsa_key("kv-test-2", size=2048)
    crypto = CryptographyClient(key.id, DefaultAzureCredential(), connection_verify=vault["LAB_AZURE_CA_BUNDLE"],
                                verify_challenge_resource=False)
    data_key = os.urandom(32)
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, data_key)
    assert wrapped.key_id == key.id and wrapped.encrypted_key != data_key
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == data_key
    tampered = bytearray(wrapped.encrypted_key)
    tampered[10] ^= 1
    with pytest.raises(HttpResponseError) as err:
        crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, bytes(tampered))
    assert err.value.status_code == 400
    other = client.create_rsa_key("kv-test-3", size=2048)
    other_crypto = CryptographyClient(other.id, DefaultAzureCredential(),
                                      connection_verify=vault["LAB_AZURE_CA_BUNDLE"], verify_challenge_resource=False)
    with pytest.raises(HttpResponseError):
        other_crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key)


def test_a_credential_for_another_resource_is_refused(vault: dict[str, str]) -> None:
    class StorageOnly:
        def get_token(self, *scopes: str, **kwargs: object) -> object:
            from azure.core.credentials import AccessToken

            token, expires = make_token("https://storage.azure.com")
            return AccessToken(token, expires)

    client = KeyClient(vault["LAB_AZURE_VAULT_URL"], StorageOnly(), connection_verify=vault["LAB_AZURE_CA_BUNDLE"],
                       verify_challenge_resource=False)
    with pytest.raises((ClientAuthenticationError, HttpResponseError)):
        client.get_key("kv-test-1")


# -- probes: what an attacker on the same machine tries (issue #14, item 3) --------------------------

VAULT = "https://vault.azure.net"


@pytest.mark.parametrize("forge", [
    pytest.param(lambda: None, id="no-token"),
    pytest.param(lambda: forge.alg_none(VAULT), id="alg-none"),
    pytest.param(lambda: forge.hs256(VAULT), id="hs256-own-secret"),
    pytest.param(lambda: forge.hs256(VAULT, kid=forge_kid()), id="hs256-with-the-real-kid"),
    pytest.param(lambda: forge.self_signed_rs256(VAULT), id="rs256-own-key"),
    pytest.param(lambda: forge.azure_token(VAULT)[0].rsplit(".", 1)[0] + ".", id="signature-stripped"),
    pytest.param(lambda: forge.azure_token(VAULT, now=time.time() - 7200)[0], id="expired"),
])
def test_forged_tokens_get_401(vault: dict[str, str], client: KeyClient, forge: Any) -> None:
    key = client.create_rsa_key("kv-probe", size=2048)
    version = key.id.rsplit("/", 1)[-1]
    token = forge()
    assert _raw(vault, f"/keys/kv-probe/{version}?api-version=7.6", token)[0] == 401
    status, headers, _ = _post(vault, f"/keys/kv-probe/{version}/unwrapkey?api-version=7.6", token,
                               {"alg": "RSA-OAEP-256", "value": "AAAA"})
    assert status == 401 and "Bearer" in headers["WWW-Authenticate"]


def forge_kid() -> str:
    from lab.emulators.tokens import SigningKey
    from lab.localcloud.auth import azure_signing_key

    return SigningKey.ensure(azure_signing_key()).kid


def _post(vault: dict[str, str], path: str, token: str | None, body: dict[str, Any],
          method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=vault["LAB_AZURE_CA_BUNDLE"])
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(vault["LAB_AZURE_VAULT_URL"] + path, data=json.dumps(body).encode(),
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as resp:  # noqa: S310
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _as(vault: dict[str, str], principal: str) -> ManagedIdentityCredential:
    return ManagedIdentityCredential(client_id=principal)


def test_a_valid_token_without_the_data_action_gets_403(vault: dict[str, str], client: KeyClient) -> None:
    key = client.create_rsa_key("kv-rbac", size=2048)
    wrapped = CryptographyClient(key, _as(vault, "lab-operator")).wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
    kwargs = {"connection_verify": vault["LAB_AZURE_CA_BUNDLE"], "verify_challenge_resource": False}
    producer = CryptographyClient(key.id, _as(vault, "lab-producer"), **kwargs)  # Event Hubs sender only
    with pytest.raises(HttpResponseError) as denied:
        producer.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key)
    assert denied.value.status_code == 403 and "unwrap/action" in str(denied.value)
    trainer = CryptographyClient(key.id, _as(vault, "lab-trainer"), **kwargs)  # may unwrap, not wrap
    assert trainer.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == b"k" * 32
    status, _, body = _post(vault, f"/keys/kv-rbac/{key.properties.version}/wrapkey?api-version=7.6",
                            forge.azure_token(VAULT, "lab-trainer")[0], {"alg": "RSA-OAEP-256", "value": "AAAA"})
    assert status == 403 and b"ForbiddenByRbac" in body


def test_enable_disable_rotate_need_the_key_admin_role(vault: dict[str, str], client: KeyClient) -> None:
    key = client.create_rsa_key("kv-admin", size=2048)
    client.update_key_properties("kv-admin", key.properties.version, enabled=False)  # the operator holds keyadmin
    consumer = KeyClient(vault["LAB_AZURE_VAULT_URL"], _as(vault, "lab-consumer"),
                         connection_verify=vault["LAB_AZURE_CA_BUNDLE"], verify_challenge_resource=False)
    assert consumer.get_key("kv-admin").properties.enabled is False  # it may read the key...
    for attempt in (lambda: consumer.update_key_properties("kv-admin", key.properties.version, enabled=True),
                    lambda: consumer.rotate_key("kv-admin"),
                    lambda: consumer.create_rsa_key("kv-admin-2", size=2048)):
        with pytest.raises(HttpResponseError) as denied:  # ...but not re-enable, rotate or create it
            attempt()
        assert denied.value.status_code == 403
    assert client.get_key("kv-admin").properties.enabled is False
    assert client.update_key_properties("kv-admin", key.properties.version, enabled=True).properties.enabled is True
