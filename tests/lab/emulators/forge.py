"""Tokens for the emulator probes: valid ones (signed with the lab's issuer key, as the
token endpoints would) and the forgeries an attacker on the same machine could make."""
from __future__ import annotations

import time
from typing import Any

import jwt

from lab.emulators.identity import ISSUER, make_token
from lab.emulators.tokens import CLOUD_PLATFORM, GCP_ISSUER, SigningKey
from lab.localcloud.auth import azure_signing_key, gcp_signing_key

OPERATOR = "lab-operator"


def azure_token(resource: str, principal: str = OPERATOR, now: float | None = None) -> tuple[str, int]:
    """A token the identity emulator would issue (same key, issuer, claims)."""
    return make_token(resource, SigningKey.ensure(azure_signing_key()), principal, now=now)


def gcp_token(principal: str, now: float | None = None) -> str:
    return make_token(CLOUD_PLATFORM, SigningKey.ensure(gcp_signing_key()), principal, now=now, issuer=GCP_ISSUER)[0]


def _claims(audience: str, issuer: str, principal: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer, "aud": audience, "sub": principal, "oid": principal, "iat": now, "nbf": now - 60,
            "exp": now + 3600}


def alg_none(audience: str, principal: str = OPERATOR, issuer: str = ISSUER) -> str:
    """An unsigned token with every claim right (what the old identity emulator issued)."""
    return jwt.encode(_claims(audience, issuer, principal), key=None, algorithm="none")


def hs256(audience: str, principal: str = OPERATOR, issuer: str = ISSUER, kid: str | None = None) -> str:
    """A token MACed with the attacker's own secret (optionally claiming the real key's kid)."""
    headers = {"kid": kid} if kid else None
    return jwt.encode(_claims(audience, issuer, principal), "attacker-own-secret-0123456789abcdef", algorithm="HS256",
                      headers=headers)


def self_signed_rs256(audience: str, principal: str = OPERATOR, issuer: str = ISSUER) -> str:
    """RS256 with the attacker's own RSA key, claiming the lab key's kid."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = SigningKey.ensure(azure_signing_key() if issuer == ISSUER else gcp_signing_key()).kid
    return jwt.encode(_claims(audience, issuer, principal), attacker, algorithm="RS256", headers={"kid": kid})


def cloudkms_server(port: int, bindings: Any = None) -> Any:
    """The Cloud KMS emulator in this process, checking tokens and bindings (default: the lab's state)."""
    from lab.emulators.cloudkms import auth_from_files, serve
    from lab.emulators.tokens import jwks_file
    from lab.localcloud.auth import GCP_IAM_DIR, gcp_bindings

    SigningKey.ensure(gcp_signing_key())
    return serve(port, auth_from_files(jwks_file(gcp_signing_key()), bindings or gcp_bindings(), GCP_IAM_DIR))


def kms_client_as(port: int, identity: str = "operator", token: str | None = None) -> Any:
    """A real google-cloud-kms client for the emulator, as a lab service account (or with a given token)."""
    from google.oauth2.credentials import Credentials

    from encryption.providers.gcp_kms import kms_client
    from lab.localcloud.auth import gcp_member

    return kms_client(Credentials(token=token or gcp_token(gcp_member(identity))), endpoint=f"127.0.0.1:{port}")
