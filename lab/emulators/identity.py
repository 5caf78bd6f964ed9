"""A managed-identity token endpoint, so lab code always uses DefaultAzureCredential.

Azure App Service / Functions expose managed identity as an HTTP endpoint named by
``IDENTITY_ENDPOINT`` and guarded by the secret in ``IDENTITY_HEADER``;
``DefaultAzureCredential`` (through ``ManagedIdentityCredential``) calls it with
``?api-version=2019-08-01&resource=...`` and the header ``X-IDENTITY-HEADER``; a
user-assigned identity is picked with ``client_id=...``. This server answers with an
RS256 JWT signed by the lab's identity key (``lab.emulators.tokens``), whose ``aud``
is the requested resource and ``sub``/``oid`` the identity's principal. It publishes
the public key as a JWKS (``/.well-known/jwks.json``, also a file beside the key)
and an OpenID-style discovery document, which the Key Vault and Event Hubs
emulators use to check every token's signature. Which principals exist (and which
one answers when no ``client_id`` is given) is operator configuration: the
assignment file written at set-up (``lab.localcloud.auth``).

The GCP silo runs a second instance (``--issuer`` of its own, its own key) as the
token source of its google.auth credentials (``lab.localcloud.gcp.local_credentials``).

Why our own: no managed-identity emulator is obtainable; the protocol is one GET.
The secret is read from ``LAB_IDENTITY_HEADER`` in the environment (not argv, so it
does not show in ``ps``). Real tokens come from Entra ID, never from here.
"""
from __future__ import annotations

import hmac
import json
import os
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from lab.emulators import JsonHandler, emulator_parser, serve
from lab.emulators.tokens import SigningKey, access_claims, load_assignments

FAKE_TENANT = "00000000-0000-0000-0000-00000000fa4e"
ISSUER = f"https://sts.windows.net/{FAKE_TENANT}/"
TOKEN_LIFETIME_S = 3600


def make_token(resource: str, signer: SigningKey, principal: str, now: float | None = None,
               issuer: str = ISSUER) -> tuple[str, int]:
    """A signed access token for principal at resource, and its expiry (epoch seconds)."""
    claims = access_claims(issuer, resource, principal, TOKEN_LIFETIME_S, now=now,
                           oid=principal, tid=FAKE_TENANT, appid=principal)
    return signer.sign(claims), int(claims["exp"])


class IdentityHandler(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = urllib.parse.urlsplit(self.path).path
        signer: SigningKey = self.server.signer  # type: ignore[attr-defined]
        issuer: str = self.server.issuer  # type: ignore[attr-defined]
        if path == "/.well-known/jwks.json":
            self.send_json(200, signer.jwks())
            return
        if path == "/.well-known/openid-configuration":
            host = self.headers.get("Host", "127.0.0.1")
            self.send_json(200, {"issuer": issuer, "jwks_uri": f"http://{host}/.well-known/jwks.json",
                                 "id_token_signing_alg_values_supported": ["RS256"]})
            return
        secret: str = self.server.secret  # type: ignore[attr-defined]
        offered = self.headers.get("X-IDENTITY-HEADER", "")
        if not hmac.compare_digest(offered.encode(), secret.encode()):
            self.send_json(401, {"error": "unauthorized", "error_description": "X-IDENTITY-HEADER missing or wrong"})
            return
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        resource = (query.get("resource") or [""])[0]
        if not resource.startswith("https://"):
            self.send_json(400, {"error": "invalid_resource", "error_description": "resource must be an https URI"})
            return
        config = load_assignments(self.server.assignments)  # type: ignore[attr-defined]
        principal = (query.get("client_id") or [str(config["default"])])[0]
        if principal not in config["principals"]:
            self.send_json(400, {"error": "invalid_request",
                                 "error_description": "Identity not found: no such user-assigned identity"})
            return
        resource = resource.removesuffix("/.default")
        token, expires = make_token(resource, signer, principal, issuer=issuer)
        self.send_json(200, {"access_token": token, "expires_on": str(expires), "resource": resource,
                             "token_type": "Bearer", "client_id": principal})


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser("python -m lab.emulators.identity",
                             "Managed-identity token endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER) for DefaultAzureCredential.")
    parser.add_argument("--signing-key", type=Path, required=True,
                        help="the issuer's RSA key (PEM, 0600; created if missing, JWKS written beside it)")
    parser.add_argument("--assignments", type=Path, required=True,
                        help="operator configuration: which principals exist and which is the default")
    parser.add_argument("--issuer", default=ISSUER,
                        help="the iss claim (default: the fake Entra tenant; the GCP silo's token endpoint passes its own)")
    args = parser.parse_args(argv)
    secret = os.environ.get("LAB_IDENTITY_HEADER")
    if not secret:
        parser.error("set LAB_IDENTITY_HEADER (the secret clients must send) in the environment")
    try:
        config = load_assignments(args.assignments)
        if config["default"] not in config["principals"]:
            parser.error(f"{args.assignments}: the default principal is not listed")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        parser.error(f"{args.assignments}: {exc}")
    serve(IdentityHandler, args.port, signer=SigningKey.ensure(args.signing_key), secret=secret,
          assignments=args.assignments, issuer=args.issuer, started=time.time())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
