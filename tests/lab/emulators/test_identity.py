"""The managed-identity emulator, through the real azure-identity credential chain."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import jwt
import pytest
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

from lab.localcloud import local_cloud

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def identity() -> Iterator[dict[str, str]]:
    with local_cloud("identity") as cloud:
        yield cloud.env


def test_default_credential_gets_a_token_for_the_requested_resource(identity: dict[str, str]) -> None:
    token = DefaultAzureCredential(exclude_interactive_browser_credential=True).get_token(
        "https://storage.azure.com/.default")
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["aud"] == "https://storage.azure.com"
    assert claims["nbf"] <= time.time() < claims["exp"]
    assert claims["iat"] <= time.time()
    assert token.expires_on == claims["exp"]
    other = ManagedIdentityCredential().get_token("https://vault.azure.net/.default")
    assert jwt.decode(other.token, options={"verify_signature": False})["aud"] == "https://vault.azure.net"


def _get(url: str, header: str | None) -> int:
    request = urllib.request.Request(url, headers={"X-IDENTITY-HEADER": header} if header else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 - loopback test URL
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_wrong_or_missing_secret_is_refused(identity: dict[str, str]) -> None:
    url = identity["IDENTITY_ENDPOINT"] + "?api-version=2019-08-01&resource=https://vault.azure.net"
    assert _get(url, identity["IDENTITY_HEADER"]) == 200
    assert _get(url, "not-the-secret") == 401
    assert _get(url, None) == 401


def test_resource_must_be_https(identity: dict[str, str]) -> None:
    url = identity["IDENTITY_ENDPOINT"] + "?api-version=2019-08-01&resource=ftp://nope"
    assert _get(url, identity["IDENTITY_HEADER"]) == 400


def test_cli_requires_the_secret_and_a_port() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LAB_IDENTITY_HEADER"}
    no_secret = subprocess.run([sys.executable, "-m", "lab.emulators.identity", "--port", "1", "--signing-key",
                                "k.pem", "--assignments", "a.json"], env=env, capture_output=True, text=True, timeout=60)
    assert no_secret.returncode == 2 and "LAB_IDENTITY_HEADER" in no_secret.stderr
    no_port = subprocess.run([sys.executable, "-m", "lab.emulators.identity"], capture_output=True, text=True,
                             timeout=60)
    assert no_port.returncode == 2 and "--port" in no_port.stderr


def test_tokens_are_rs256_and_verify_against_the_published_jwks(identity: dict[str, str]) -> None:
    token = ManagedIdentityCredential().get_token("https://vault.azure.net/.default").token
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"]
    base = identity["IDENTITY_ENDPOINT"].rsplit("/msi/", 1)[0]
    with urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=5) as resp:  # noqa: S310
        discovery = json.loads(resp.read())
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="https://vault.azure.net",
                        issuer=discovery["issuer"])
    assert claims["sub"] == "lab-operator"  # the default (system-assigned) identity is the operator
    with pytest.raises(jwt.InvalidSignatureError):  # one changed claim breaks the signature
        head, body, sig = token.split(".")
        forged = jwt.utils.base64url_encode(json.dumps({**claims, "sub": "lab-producer"}).encode()).decode()
        jwt.decode(f"{head}.{forged}.{sig}", key.key, algorithms=["RS256"], audience="https://vault.azure.net")


def test_client_id_picks_a_configured_identity_only(identity: dict[str, str]) -> None:
    token = ManagedIdentityCredential(client_id="lab-producer").get_token("https://vault.azure.net/.default").token
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "lab-producer"
    url = identity["IDENTITY_ENDPOINT"] + "?api-version=2019-08-01&resource=https://vault.azure.net&client_id=nobody"
    assert _get(url, identity["IDENTITY_HEADER"]) == 400
