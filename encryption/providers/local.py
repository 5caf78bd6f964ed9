"""A key service in a local file: 256-bit key-encryption keys (KEKs), versioned.

It stands in for a cloud key service where none is wanted (offline runs, tests,
the format's reference implementation). The key file is JSON, mode 0600, under
``settings().keys_dir`` by default::

    {"format": "secure-ai-lab/local-kek/v1", "key_set": "<16 hex>", "current": 2,
     "keys": {"1": {"key": "<base64 32 bytes>", "created": "<UTC time>"}, "2": {...}}}

A key id is ``<key_set>/v<version>``. Wrapped data key = 12-byte nonce || AES-GCM
ciphertext of the 32-byte data key || 16-byte tag, with AAD = ``LOCAL_AAD_PREFIX ||
key_id || "\\n" || canonical key-service context``. Rotation appends a version and
makes it current; old versions stay so old envelopes still open.

Why hand-written: AES-GCM key wrapping with an AAD is three lines with
``cryptography``; RFC 3394 key wrap (also in ``cryptography``) cannot bind a context.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from encryption.context import canonical_context, key_service_context
from encryption.errors import DecryptionFailed, KeyServiceError
from encryption.format import KEY_BYTES, NONCE_BYTES
from encryption.providers.base import DataKey, KeyProvider, new_data_key
from lab.config import settings

FILE_FORMAT = "secure-ai-lab/local-kek/v1"
LOCAL_AAD_PREFIX = b"secure-ai-lab/local-kek/v1\n"
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + 16


def default_key_file() -> Path:
    """Where the lab keeps its local KEKs unless told otherwise (git-ignored)."""
    return settings().keys_dir / "local-kek.json"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_version() -> dict[str, str]:
    return {"key": base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii"), "created": _now()}


def _write_private(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON atomically, readable by the owner only (0600 from the first byte)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_key_file(path: Path, *, overwrite: bool = False) -> str:
    """Create a key file with one fresh KEK; returns its key id. Refuses to overwrite by default."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KeyServiceError(f"key file {path} already exists (losing it makes its envelopes unreadable)")
    key_set = secrets.token_hex(8)
    _write_private(path, {"format": FILE_FORMAT, "key_set": key_set, "current": 1, "keys": {"1": _new_version()}})
    return f"{key_set}/v1"


def _load(path: Path) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyServiceError(f"key file {path} is accessible by group/others; run: chmod 600 {path}")
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyServiceError(f"key file {path} not found (create it with: envelope.py keygen --out {path})") from None
    except (OSError, ValueError) as exc:
        raise KeyServiceError(f"key file {path} is unreadable: {type(exc).__name__}") from None
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT or not isinstance(doc.get("keys"), dict):
        raise KeyServiceError(f"key file {path} is not a {FILE_FORMAT} key file")
    if str(doc.get("current")) not in doc["keys"]:
        raise KeyServiceError(f"key file {path}: current version {doc.get('current')!r} is missing")
    return doc


class LocalKeyProvider(KeyProvider):
    """Data keys wrapped with AES-256-GCM under a KEK from a local key file."""

    name = "local"

    def __init__(self, key_file: Path | None = None) -> None:
        self.key_file = Path(key_file) if key_file is not None else default_key_file()
        self._doc = _load(self.key_file)

    @property
    def key_set(self) -> str:
        return str(self._doc["key_set"])

    def current_key_id(self) -> str:
        return f"{self.key_set}/v{self._doc['current']}"

    def versions(self) -> list[int]:
        """Versions present in the key file, oldest first."""
        return sorted(int(v) for v in self._doc["keys"])

    def rotate(self) -> str:
        """Add a new KEK version, make it current, keep the old ones. Returns the new key id."""
        doc = _load(self.key_file)
        version = max(int(v) for v in doc["keys"]) + 1
        doc["keys"][str(version)] = _new_version()
        doc["current"] = version
        _write_private(self.key_file, doc)
        self._doc = doc
        return self.current_key_id()

    def _kek(self, key_id: str) -> bytes:
        key_set, _, version = key_id.partition("/v")
        entry = self._doc["keys"].get(version) if key_set == self.key_set else None
        if entry is None and key_set == self.key_set:
            self._doc = _load(self.key_file)  # another process may have rotated since we loaded
            entry = self._doc["keys"].get(version)
        if entry is None:
            raise KeyServiceError(f"key {key_id!r} is not in key file {self.key_file} (key set {self.key_set})")
        kek = base64.b64decode(entry["key"])
        if len(kek) != KEY_BYTES:
            raise KeyServiceError(f"key {key_id!r} in {self.key_file} is not a 256-bit key")
        return kek

    @staticmethod
    def _aad(key_id: str, context: Mapping[str, str]) -> bytes:
        return LOCAL_AAD_PREFIX + key_id.encode("utf-8") + b"\n" + canonical_context(key_service_context(context))

    def wrap_data_key(self, plaintext: bytes, context: Mapping[str, str]) -> DataKey:
        if len(plaintext) != KEY_BYTES:
            raise KeyServiceError(f"local: data key must be {KEY_BYTES} bytes")
        key_id = self.current_key_id()
        aad = self._aad(key_id, context)
        self._count_call()
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + AESGCM(self._kek(key_id)).encrypt(nonce, plaintext, aad)
        return DataKey(plaintext=bytes(plaintext), wrapped=wrapped, key_id=key_id, provider=self.name)

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        return self.wrap_data_key(new_data_key(), context)

    def unwrap_data_key(self, wrapped: bytes, key_id: str, context: Mapping[str, str]) -> bytes:
        aad = self._aad(key_id, context)
        kek = self._kek(key_id)
        self._count_call()
        if len(wrapped) != WRAPPED_BYTES:
            raise DecryptionFailed("local: wrapped data key has the wrong length (tampered?)")
        try:
            return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionFailed(
                f"local: data key did not unwrap under {key_id!r} (wrong key or context, or tampered)"
            ) from None
