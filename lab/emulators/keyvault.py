"""A small Azure Key Vault (keys) emulator over HTTPS for azure-keyvault-keys.

Why our own: no Key Vault emulator is obtainable on these machines (the known
ones are not on the registries we can reach). This server implements the keys
subset the lab uses, with Key Vault's wire shapes:

- the ``401`` Bearer challenge (``WWW-Authenticate: Bearer authorization=...,
  resource="https://vault.azure.net"``) and a bearer token checked like Key Vault
  does: RS256 signature against the identity emulator's JWKS, issuer, audience
  (the vault resource) and lifetime; anything else is 401;
- Azure RBAC data actions: each operation needs its data action
  (``Microsoft.KeyVault/vaults/keys/wrap/action``, ``.../keys/update/action`` to
  enable or disable, ``.../keys/rotate/action``, ...), granted to the token's
  principal by the operator's assignment file through the role documents in
  ``ingestion/azure/iam``; otherwise 403 ``ForbiddenByRbac``. Enabling, disabling
  and rotating are therefore key-admin operations (Key Vault Crypto Officer);
- create RSA key, get (latest or a version), list versions, rotate,
  enable/disable a version (PATCH attributes.enabled: a disabled version refuses
  every crypto operation with 403, as Key Vault does),
  rotation policy get/update, wrapKey/unwrapKey with RSA-OAEP-256 (and RSA-OAEP),
  sign/verify of a SHA-256 digest with RS256 or PS256 (model signing keys);
- errors shaped like Key Vault's: ``{"error": {"code": "KeyNotFound", ...}}``
  (404), ``BadParameter`` (400), ``Unauthorized`` (401).

Private key material never leaves this process: wrap can be done by the client
with the public key, unwrap only here. With ``--data-dir`` keys persist in a
0600 JSON file so landed data stays readable after a restart.

Not emulated (the fidelity table says so): vault access policies, RBAC scopes
(an assignment covers the whole vault), HSM protection, soft delete and purge, automatic
rotation from the policy (the policy is stored and returned, not acted on),
key expiry enforcement, EC keys.
"""
from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from lab.emulators import JsonHandler, emulator_parser, serve
from lab.emulators.identity import ISSUER
from lab.emulators.tokens import Grants, TokenRejected, Verifier

RESOURCE = "https://vault.azure.net"
FAKE_TENANT = "00000000-0000-0000-0000-00000000fa4e"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{FAKE_TENANT}", resource="{RESOURCE}"'
DEFAULT_OPS = ["encrypt", "decrypt", "wrapKey", "unwrapKey"]
NAME_RE = r"[0-9A-Za-z-]{1,127}"
OAEP = {
    "RSA-OAEP-256": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
}
KEYS, POLICIES = "Microsoft.KeyVault/vaults/keys/", "Microsoft.KeyVault/vaults/keyrotationpolicies/"
CRYPTO_ACTIONS = {"wrapkey": "wrap", "unwrapkey": "unwrap", "encrypt": "encrypt", "decrypt": "decrypt",
                  "sign": "sign", "verify": "verify"}
SIGN_PADDING = {
    "RS256": lambda: padding.PKCS1v15(),
    "PS256": lambda: padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
}
DEFAULT_POLICY = {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
                  "attributes": {}}


class VaultError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise VaultError(400, "BadParameter", "value is not base64url") from None


def int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Vault:
    """Keys by name, each a list of versions (newest last), plus rotation policies."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.keys: dict[str, dict[str, Any]] = {}
        if path is not None and path.exists():
            self.keys = json.loads(path.read_text())

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(self.keys))
        tmp.replace(self.path)

    def _key(self, name: str) -> dict[str, Any]:
        if name not in self.keys:
            raise VaultError(404, "KeyNotFound", f"A key with (name/id) {name} was not found in this key vault.")
        return self.keys[name]

    def version(self, name: str, version: str = "") -> dict[str, Any]:
        versions = self._key(name)["versions"]
        if not version:
            return versions[-1]
        for item in versions:
            if item["version"] == version:
                return item
        raise VaultError(404, "KeyNotFound", f"A key with (name/id) {name}/{version} was not found in this key vault.")

    def add_version(self, name: str, size: int, ops: list[str], kty: str) -> dict[str, Any]:
        private = rsa.generate_private_key(public_exponent=65537, key_size=size)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        now = int(time.time())
        item = {"version": uuid.uuid4().hex, "pem": pem, "ops": ops, "kty": kty, "created": now, "updated": now}
        entry = self.keys.setdefault(name, {"versions": [], "policy": None})
        entry["versions"].append(item)
        self.save()
        return item


def private_key(item: dict[str, Any]) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(item["pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


class VaultHandler(JsonHandler):
    @property
    def vault(self) -> Vault:
        return self.server.vault  # type: ignore[attr-defined]

    def base_url(self) -> str:
        return f"https://{self.headers.get('Host', '127.0.0.1')}"

    def bundle(self, name: str, item: dict[str, Any]) -> dict[str, Any]:
        numbers = private_key(item).public_key().public_numbers()
        return {
            "key": {"kid": f"{self.base_url()}/keys/{name}/{item['version']}", "kty": item["kty"],
                    "key_ops": item["ops"], "n": int_b64(numbers.n), "e": int_b64(numbers.e)},
            "attributes": {"enabled": item.get("enabled", True), "created": item["created"], "updated": item["updated"],
                           "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
        }

    def principal(self) -> str:
        """The caller's principal from a verified bearer token; TokenRejected otherwise."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise TokenRejected("AKV10000: Request is missing a Bearer or PoP token.")
        verifier: Verifier = self.server.verifier  # type: ignore[attr-defined]
        return str(verifier.verify(auth[7:])["sub"])

    def route(self, method: str) -> None:
        body = self.read_body()
        path = urlsplit(self.path).path.rstrip("/")
        try:
            principal = self.principal()
        except TokenRejected as exc:
            self.send_json(401, {"error": {"code": "Unauthorized", "message": str(exc)}},
                           {"WWW-Authenticate": CHALLENGE})
            return
        try:
            action = required_action(method, path)
            grants: Grants = self.server.grants  # type: ignore[attr-defined]
            if action and not grants.allows(principal, action):
                raise VaultError(403, "Forbidden", f"Caller is not authorized to perform action on resource. "
                                 f"Caller: {principal}; Action: {action}; innererror: ForbiddenByRbac")
            request = json.loads(body) if body else {}
            if not isinstance(request, dict):
                raise VaultError(400, "BadParameter", "the request body must be a JSON object")
            status, reply = self.dispatch(method, path, request)
        except VaultError as exc:
            status, reply = exc.status, {"error": {"code": exc.code, "message": exc.message}}
        except json.JSONDecodeError:
            status, reply = 400, {"error": {"code": "BadParameter", "message": "the request body is not JSON"}}
        self.send_json(status, reply)

    def do_GET(self) -> None:  # noqa: N802
        self.route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self.route("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.route("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self.route("PATCH")

    def dispatch(self, method: str, path: str, req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        vault = self.vault
        with vault.lock:
            if m := re.fullmatch(rf"/keys/({NAME_RE})/create", path):
                if method != "POST":
                    raise VaultError(405, "MethodNotAllowed", "use POST")
                kty = req.get("kty")
                if kty not in ("RSA", "RSA-HSM"):
                    raise VaultError(400, "BadParameter", f"kty {kty!r} is not supported here (RSA only)")
                size = int(req.get("key_size") or 2048)
                if size not in (2048, 3072, 4096):
                    raise VaultError(400, "BadParameter", f"key_size {size} is not supported")
                ops = req.get("key_ops") or DEFAULT_OPS
                return 200, self.bundle(m[1], vault.add_version(m[1], size, ops, kty))
            if m := re.fullmatch(rf"/keys/({NAME_RE})/rotate", path):
                last = vault.version(m[1])
                size = private_key(last).key_size
                return 200, self.bundle(m[1], vault.add_version(m[1], size, last["ops"], last["kty"]))
            if m := re.fullmatch(rf"/keys/({NAME_RE})/rotationpolicy", path):
                entry = vault._key(m[1])
                if method == "PUT":
                    entry["policy"] = self.check_policy(req)
                    vault.save()
                policy = entry["policy"] or DEFAULT_POLICY
                return 200, {"id": f"{self.base_url()}/keys/{m[1]}/rotationpolicy", **policy}
            if m := re.fullmatch(rf"/keys/({NAME_RE})/versions", path):
                items = [self.bundle(m[1], item) for item in vault._key(m[1])["versions"]]
                return 200, {"value": [{"kid": b["key"]["kid"], "attributes": b["attributes"]} for b in items],
                             "nextLink": None}
            if m := re.fullmatch(rf"/keys/({NAME_RE})/([0-9a-f]{{32}})/(wrapkey|unwrapkey|encrypt|decrypt)", path):
                return 200, self.crypto(m[1], m[2], m[3], req)
            if m := re.fullmatch(rf"/keys/({NAME_RE})/([0-9a-f]{{32}})/(sign|verify)", path):
                return 200, self.signature(m[1], m[2], m[3], req)
            if method == "PATCH" and (m := re.fullmatch(rf"/keys/({NAME_RE})/([0-9a-f]{{32}})", path)):
                item = vault.version(m[1], m[2])
                enabled = (req.get("attributes") or {}).get("enabled")
                if enabled is not None:
                    item["enabled"] = bool(enabled)
                    item["updated"] = int(time.time())
                    vault.save()
                return 200, self.bundle(m[1], item)
            if m := re.fullmatch(rf"/keys/({NAME_RE})(?:/([0-9a-f]{{32}}))?", path):
                return 200, self.bundle(m[1], vault.version(m[1], m[2] or ""))
        raise VaultError(404, "NotFound", f"no such operation: {method} {path}")

    @staticmethod
    def check_policy(req: dict[str, Any]) -> dict[str, Any]:
        actions = req.get("lifetimeActions") or []
        for action in actions:
            kind = str(action.get("action", {}).get("type", "")).lower()
            trigger = action.get("trigger", {})
            if kind not in ("rotate", "notify") or not (trigger.get("timeAfterCreate") or trigger.get("timeBeforeExpiry")):
                raise VaultError(400, "BadParameter", "each lifetime action needs type Rotate/Notify and a trigger")
        now = int(time.time())
        attributes = dict(req.get("attributes") or {})
        attributes.update({"created": attributes.get("created", now), "updated": now})
        return {"lifetimeActions": actions, "attributes": attributes}

    def usable_version(self, name: str, version: str, op: str) -> dict[str, Any]:
        """The key version, if it is enabled and allows ``op`` (a key operation name); else 403 as Key Vault."""
        item = self.vault.version(name, version)
        if not item.get("enabled", True):
            raise VaultError(403, "Forbidden", f"Operation {op} is not allowed on a disabled key.")
        if op not in item["ops"]:
            raise VaultError(403, "Forbidden", f"Operation {op} is not permitted on this key.")
        return item

    def crypto(self, name: str, version: str, op: str, req: dict[str, Any]) -> dict[str, Any]:
        allowed = {"wrapkey": "wrapKey", "unwrapkey": "unwrapKey", "encrypt": "encrypt", "decrypt": "decrypt"}[op]
        item = self.usable_version(name, version, allowed)
        alg = req.get("alg")
        if alg not in OAEP:
            raise VaultError(400, "BadParameter", f"algorithm {alg!r} is not supported (RSA-OAEP-256, RSA-OAEP)")
        value = unb64url(str(req.get("value", "")))
        key = private_key(item)
        if op in ("wrapkey", "encrypt"):
            out = key.public_key().encrypt(value, OAEP[alg]())
        else:
            try:
                out = key.decrypt(value, OAEP[alg]())
            except ValueError:
                raise VaultError(400, "BadParameter", "The parameter is incorrect: decryption failed.") from None
        return {"kid": f"{self.base_url()}/keys/{name}/{version}", "value": b64url(out)}

    def signature(self, name: str, version: str, op: str, req: dict[str, Any]) -> dict[str, Any]:
        """sign / verify a SHA-256 digest (RS256, PS256), as Key Vault does: the digest, not the message."""
        item = self.usable_version(name, version, op)
        alg = req.get("alg")
        if alg not in SIGN_PADDING:
            raise VaultError(400, "BadParameter", f"algorithm {alg!r} is not supported (RS256, PS256)")
        digest = unb64url(str(req.get("value" if op == "sign" else "digest", "")))
        if len(digest) != 32:
            raise VaultError(400, "BadParameter", "the digest must be 32 bytes (SHA-256)")
        key, scheme = private_key(item), SIGN_PADDING[alg]()
        kid = f"{self.base_url()}/keys/{name}/{version}"
        if op == "sign":
            return {"kid": kid, "value": b64url(key.sign(digest, scheme, Prehashed(hashes.SHA256())))}
        try:
            key.public_key().verify(unb64url(str(req.get("value", ""))), digest, scheme, Prehashed(hashes.SHA256()))
        except InvalidSignature:
            return {"value": False}
        return {"value": True}


def required_action(method: str, path: str) -> str:
    """The RBAC data action an operation needs ("" for an unknown route: it answers 404 anyway)."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "keys":
        return ""
    last = parts[-1] if len(parts) > 2 else ""
    if last == "create":
        return KEYS + "create/action"
    if last == "rotate":
        return KEYS + "rotate/action"
    if last == "rotationpolicy":
        return POLICIES + ("write" if method == "PUT" else "read")
    if last in CRYPTO_ACTIONS:
        return KEYS + CRYPTO_ACTIONS[last] + "/action"
    if method == "PATCH":
        return KEYS + "update/action"
    return KEYS + "read"


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser("python -m lab.emulators.keyvault", "Azure Key Vault (keys) emulator over HTTPS.")
    parser.add_argument("--cert", type=Path, required=True, help="server certificate (PEM), e.g. from lab.tls")
    parser.add_argument("--key", type=Path, required=True, help="server private key (PEM)")
    parser.add_argument("--data-dir", type=Path, help="persist keys here (0600 file); default: memory only")
    parser.add_argument("--jwks", type=Path, required=True, help="the identity emulator's published JWKS (file)")
    parser.add_argument("--assignments", type=Path, required=True, help="operator's role assignments (JSON)")
    parser.add_argument("--roles-dir", type=Path, required=True, help="role documents (ingestion/azure/iam)")
    args = parser.parse_args(argv)
    for path in (args.cert, args.key, args.assignments):
        if not path.is_file():
            parser.error(f"{path} does not exist")
    store = args.data_dir / "keys.json" if args.data_dir else None
    verifier = Verifier(args.jwks, ISSUER, [RESOURCE, RESOURCE + "/"])
    serve(VaultHandler, args.port, tls=(args.cert, args.key), vault=Vault(store), verifier=verifier,
          grants=Grants(args.assignments, args.roles_dir, "azure"))
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    raise SystemExit(main())
