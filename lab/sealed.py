"""JSON state files sealed with the operator key (HMAC-SHA256), so an edit outside the lab is refused.

Why: the producer trust store and the model high-water mark decide what the lab accepts.
They live in the state folder, which any script (or a careless student) can write. The
operator key lives apart from them (``LAB_OPERATOR_KEY_FILE``, default ``.lab/keys/operator.key``,
mode 0600 in a 0700 folder); a file whose MAC does not verify under it, or that carries no
MAC, is refused with one loud error instead of being half-trusted. A writer that cannot read
the operator key cannot produce a file the lab accepts.

What this does not stop: a process running as the operator (it can read the key). Put the
key on another account's read-only path, or in a key service, where that matters.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lab.cli import LabError
from lab.config import settings

FORMAT = "secure-ai-lab/sealed-json/v1"
KEY_BYTES = 32


class SealError(LabError):
    """A sealed file is missing its MAC, fails it, or the operator key is unusable."""


def operator_key_file() -> Path:
    cfg = settings()
    return cfg.operator_key_file or cfg.keys_dir / "operator.key"


def _read_key(path: Path, create: bool) -> bytes:
    if not path.exists():
        if not create:
            raise SealError(f"operator key {path} is missing: the sealed state next to it cannot be checked "
                            "(restore the key, or remove the state and enrol again)")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SealError(f"operator key {path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SealError(f"operator key {path} is not {KEY_BYTES} base64 bytes")
    return key


def _mac(key: bytes, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, FORMAT.encode() + b"\n" + canonical, hashlib.sha256).hexdigest()


class SealedJson:
    """One JSON document at ``path``, MAC'd with the operator key; read-modify-write under a lock."""

    def __init__(self, path: Path, key_file: Path | None = None) -> None:
        self.path = path
        self.key_file = key_file or operator_key_file()

    def read(self, default: Callable[[], Any]) -> Any:
        """The verified body, or ``default()`` when no file exists yet. Anything else is refused."""
        if not self.path.exists():
            return default()
        try:
            doc = json.loads(self.path.read_bytes())
        except ValueError:
            raise SealError(f"{self.path} is not JSON: refused (edited by hand?)") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("mac"), str):
            raise SealError(f"{self.path} is not sealed by the operator key: refused")
        expected = _mac(_read_key(self.key_file, create=False), doc.get("body"))
        if not hmac.compare_digest(expected, doc["mac"]):
            raise SealError(f"{self.path} fails its integrity check (changed outside the lab's commands, "
                            "or sealed with another operator key): refused")
        return doc["body"]

    def write(self, body: Any) -> None:
        """Seal and replace atomically (a reader sees the old or the new file, never half of one)."""
        key = _read_key(self.key_file, create=True)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = json.dumps({"format": FORMAT, "body": body, "mac": _mac(key, body)}, indent=1, sort_keys=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(data)
        tmp.replace(self.path)

    @contextmanager
    def update(self, default: Callable[[], Any]) -> Iterator[Any]:
        """``with sealed.update(dict) as body: body[...] = ...`` — saved on exit, serialised by a file lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            body = self.read(default)
            yield body
            self.write(body)
