"""A managed-identity token endpoint, so lab code always uses DefaultAzureCredential.

Azure App Service / Functions expose managed identity as an HTTP endpoint named by
``IDENTITY_ENDPOINT`` and guarded by the secret in ``IDENTITY_HEADER``;
``DefaultAzureCredential`` (through ``ManagedIdentityCredential``) calls it with
``?api-version=2019-08-01&resource=...`` and the header ``X-IDENTITY-HEADER``.
This server answers those calls with an *unsigned* JWT (``alg: none``) whose
``aud`` is the requested resource and which carries ``iat``/``nbf``/``exp``.
Azurite (``--oauth basic``) and our Key Vault / Event Hubs emulators check the
audience and lifetime but not the signature; real Azure checks everything, and
real tokens come from Entra ID, never from here.

Why our own: no managed-identity emulator is obtainable; the protocol is one GET.
The secret is read from ``LAB_IDENTITY_HEADER`` in the environment (not argv, so
it does not show in ``ps``).
"""
from __future__ import annotations

import hmac
import os
import time
import urllib.parse
from collections.abc import Sequence

import jwt

from lab.emulators import JsonHandler, emulator_parser, serve

FAKE_TENANT = "00000000-0000-0000-0000-00000000fa4e"
FAKE_PRINCIPAL = "fake-emulator-managed-identity"
TOKEN_LIFETIME_S = 3600


def make_token(resource: str, now: float | None = None) -> tuple[str, int]:
    """An unsigned access token for resource and its expiry (epoch seconds)."""
    issued = int(now if now is not None else time.time())
    expires = issued + TOKEN_LIFETIME_S
    claims = {
        "aud": resource,
        "iss": f"https://sts.windows.net/{FAKE_TENANT}/",
        "iat": issued,
        "nbf": issued - 60,
        "exp": expires,
        "oid": FAKE_PRINCIPAL,
        "sub": FAKE_PRINCIPAL,
        "tid": FAKE_TENANT,
        "appid": FAKE_PRINCIPAL,
    }
    return jwt.encode(claims, key=None, algorithm="none"), expires


class IdentityHandler(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
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
        resource = resource.removesuffix("/.default")
        token, expires = make_token(resource)
        self.send_json(200, {"access_token": token, "expires_on": str(expires), "resource": resource,
                             "token_type": "Bearer", "client_id": FAKE_PRINCIPAL})


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser("python -m lab.emulators.identity",
                             "Managed-identity token endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER) for DefaultAzureCredential.")
    args = parser.parse_args(argv)
    secret = os.environ.get("LAB_IDENTITY_HEADER")
    if not secret:
        parser.error("set LAB_IDENTITY_HEADER (the secret clients must send) in the environment")
    serve(IdentityHandler, args.port, secret=secret)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
