"""GCS as the landing ObjectStore (lab.storage), over the real google-cloud-storage SDK."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.api_core import exceptions as gexc

from lab.storage import check_key


class GcsStore:
    """One bucket; keys are object names. Each put is a single atomic object write."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = client.bucket(bucket)

    def put(self, key: str, data: bytes) -> None:
        self.bucket.blob(check_key(key)).upload_from_string(
            data, content_type="application/octet-stream", timeout=30
        )

    def get(self, key: str) -> bytes:
        try:
            return bytes(self.bucket.blob(check_key(key)).download_as_bytes(timeout=30))
        except gexc.NotFound:
            raise KeyError(key) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(b.name for b in self.client.list_blobs(self.bucket, prefix=prefix or None))

    def exists(self, key: str) -> bool:
        return bool(self.bucket.blob(check_key(key)).exists())

    def delete(self, key: str) -> None:
        """Remove an object (used to roll back a batch that was never committed)."""
        try:
            self.bucket.blob(check_key(key)).delete(timeout=30)
        except gexc.NotFound:
            pass

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under prefix; return how many (a reset)."""
        names = list(self.list(prefix))
        for name in names:
            self.delete(name)
        return len(names)
