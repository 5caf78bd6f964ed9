"""Signed access tokens for the project's emulators: an RS256 issuer, a JWKS, a verifier, role checks.

Why: the token emulators (``identity`` for Azure, ``metadata`` for GCP) must issue tokens
that nobody else can forge, and the resource emulators (Key Vault, Event Hubs, Cloud KMS)
must check them the way the services do: signature against the issuer's published keys
(JWKS), algorithm pinned to RS256 (so ``alg: none`` and HS256 tokens made with an
attacker's own secret fail), issuer, audience and lifetime. What a valid caller may do
comes from operator configuration (a role-assignment file in the lab's state folder),
never from the token: the token only says who the caller is.

Key material: one RSA key per issuer, generated at set-up into the lab's state folder
(0600, never in the repository); its public half is written beside it as a JWKS file
that the verifiers read, and the issuer also serves it over HTTP.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ALGORITHM = "RS256"
KEY_BITS = 2048
#: The issuer and audience of the GCP silo's local access tokens (Azure's are in lab.emulators.identity).
GCP_ISSUER = "https://lab-gcp-token.invalid/"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


class TokenRejected(Exception):
    """The token is missing, forged, expired or for another audience or issuer (HTTP 401)."""


def _b64(n: int) -> str:
    return jwt.utils.base64url_encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).decode()


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)


class SigningKey:
    """An issuer's RSA key: created once (0600 PEM), published as a JWKS next to it."""

    def __init__(self, private: rsa.RSAPrivateKey) -> None:
        self.private = private
        numbers = private.public_key().public_numbers()
        self.public_jwk: dict[str, str] = {"kty": "RSA", "e": _b64(numbers.e), "n": _b64(numbers.n)}
        thumbprint = json.dumps(self.public_jwk, sort_keys=True, separators=(",", ":")).encode()  # RFC 7638 order
        self.kid = jwt.utils.base64url_encode(hashlib.sha256(thumbprint).digest()).decode()

    @classmethod
    def ensure(cls, path: Path) -> SigningKey:
        """Load the key at path, or create it (and its JWKS file, ``path`` + ``.jwks.json``)."""
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError(f"{path} is not an RSA private key")
            signer = cls(key)
        else:
            signer = cls(rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS))
            _write_private(path, signer.private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        jwks_path = jwks_file(path)
        if not jwks_path.exists() or json.loads(jwks_path.read_text()) != signer.jwks():
            _write_private(jwks_path, json.dumps(signer.jwks()).encode())
            jwks_path.chmod(0o644)  # public: verifiers of other users may read it
        return signer

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.private, algorithm=ALGORITHM, headers={"kid": self.kid})


def jwks_file(key_path: Path) -> Path:
    """Where the public JWKS of the key at key_path is published."""
    return key_path.with_name(key_path.name + ".jwks.json")


def access_claims(issuer: str, audience: str, subject: str, lifetime_s: int, now: float | None = None,
                  **extra: Any) -> dict[str, Any]:
    """The registered claims every emulator token carries."""
    issued = int(now if now is not None else time.time())
    return {"iss": issuer, "aud": audience, "sub": subject, "iat": issued, "nbf": issued - 60,
            "exp": issued + lifetime_s, **extra}


class Verifier:
    """Checks a bearer token against one issuer's JWKS file, its issuer and audiences.

    The JWKS file is re-read when it changes (a re-created lab state), so a verifier
    never needs a restart; the algorithm is pinned, never taken from the token header.
    """

    def __init__(self, jwks_path: Path, issuer: str, audiences: Iterable[str]) -> None:
        self.jwks_path, self.issuer, self.audiences = jwks_path, issuer, list(audiences)
        self._lock = threading.Lock()
        self._stamp: float = -1.0
        self._keys: dict[str, Any] = {}

    def _load(self) -> dict[str, Any]:
        with self._lock:
            try:
                stamp = self.jwks_path.stat().st_mtime
            except OSError:
                raise TokenRejected("the issuer's JWKS is not published") from None
            if stamp != self._stamp:
                keyset = jwt.PyJWKSet.from_dict(json.loads(self.jwks_path.read_text()))
                self._keys = {k.key_id: k.key for k in keyset.keys}
                self._stamp = stamp
            return self._keys

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; TokenRejected if anything about it is wrong."""
        if not token:
            raise TokenRejected("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("the token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise TokenRejected(f"token algorithm {header.get('alg')!r} is not accepted (RS256 only)")
        key = self._load().get(str(header.get("kid", "")))
        if key is None:
            raise TokenRejected("the token is not signed by the issuer's published key")
        try:
            return dict(jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audiences, issuer=self.issuer,
                                   options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]}, leeway=0))
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"token rejected: {exc}") from None


# -- who may do what (operator configuration) ---------------------------------------------------


def load_assignments(path: Path) -> dict[str, Any]:
    """The operator's role-assignment file (written by lab.localcloud at set-up, editable)."""
    return dict(json.loads(path.read_text()))


def _matches(granted: str, wanted: str) -> bool:
    """Azure/GCP action match: case-insensitive, ``*`` spans any characters."""
    return fnmatch.fnmatchcase(wanted.lower(), granted.lower())


class Grants:
    """Which principal holds which operations, read from the operator's files (re-read on change).

    The assignment file maps a principal (the token's ``sub``) to identity names (and
    optionally a ``permissions`` list: an inline custom role) and a ``scope`` pattern;
    each identity's operations come from the role documents in ``roles_dir`` (Azure:
    ``assignments[].permissions.dataActions``; GCP: ``bindings[].permissions``).
    """

    def __init__(self, assignments: Path, roles_dir: Path, cloud: str) -> None:
        self.assignments, self.roles_dir, self.cloud = assignments, roles_dir, cloud
        self._lock = threading.Lock()
        self._stamp: float = -1.0
        self._ops: dict[str, list[tuple[str, str]]] = {}

    def _identity_ops(self, identity: str) -> list[str]:
        """The operations the identity's role document grants."""
        doc = json.loads((self.roles_dir / f"{identity}.json").read_text())
        if self.cloud == "azure":
            return [op for grant in doc["assignments"] for op in grant["permissions"]["dataActions"]]
        return [op for grant in doc["bindings"] for op in grant["permissions"]]

    def _load(self) -> dict[str, list[tuple[str, str]]]:
        with self._lock:
            stamp = self.assignments.stat().st_mtime
            if stamp != self._stamp:
                config = load_assignments(self.assignments)
                ops: dict[str, list[tuple[str, str]]] = {}
                for principal, entry in config["principals"].items():
                    scope = str(entry.get("scope", "*"))
                    granted = [op for identity in entry.get("identities", []) for op in self._identity_ops(identity)]
                    granted += entry.get("permissions", [])  # an operator's own custom role, inline
                    ops[principal] = [(scope, op) for op in granted]
                self._ops, self._stamp = ops, stamp
            return self._ops

    def allows(self, principal: str, operation: str, resource: str = "") -> bool:
        """True when an assignment gives principal the operation on resource."""
        return any(_matches(op, operation) and fnmatch.fnmatchcase(resource, scope)
                   for scope, op in self._load().get(principal, []))
