"""Object storage behind one small interface, so landing logic is written once.

Each cloud supplies an implementation over its real SDK (S3, Blob, GCS);
``LocalDirStore`` serves offline runs and tests of the cloud-agnostic parts.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class ObjectStore(Protocol):
    """The subset of object storage the lab uses. Keys are '/'-separated relative paths."""

    def put(self, key: str, data: bytes) -> None:
        """Store data under key (overwrite: landing is idempotent by key)."""

    def get(self, key: str) -> bytes:
        """Read an object; raise KeyError if it does not exist."""

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under a prefix, sorted."""

    def exists(self, key: str) -> bool:
        """True if key exists."""


def check_key(key: str) -> str:
    """Refuse keys that could escape their prefix or are not plain relative paths."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ValueError(f"unsafe object key {key!r}")
    return key


class LocalDirStore:
    """An ObjectStore in a local folder (offline runs and tests)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half an object

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return path.read_bytes()

    def list(self, prefix: str = "") -> Iterator[str]:
        keys = (
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp")
        )
        yield from sorted(k for k in keys if k.startswith(prefix))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()
