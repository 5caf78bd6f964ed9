"""Azure Blob storage as an ingestion.core ObjectStore (real azure-storage-blob over HTTPS; Azurite locally).

The landing keys are hierarchical (``raw/silo=azure/dataset=…/batch=….jsonl.env``),
the ADLS Gen2 layout; we land through the Blob API because Azurite does not
implement the DFS API (and on a real hierarchical-namespace account the Blob API
writes the same paths). Authentication is OAuth through the credential
(DefaultAzureCredential), never an account key.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from lab.storage import check_key


class BlobStore:
    """ObjectStore over one Blob container."""

    def __init__(self, account_url: str, container: str, credential: Any, connection_verify: bool | str = True) -> None:
        from azure.storage.blob import ContainerClient

        if connection_verify is False:
            raise ValueError("TLS verification cannot be turned off")
        self.container = ContainerClient(account_url, container, credential=credential,
                                         connection_verify=connection_verify)

    def create(self) -> bool:
        """Create the container if missing; True if it was created."""
        try:
            self.container.create_container()
        except ResourceExistsError:
            return False
        return True

    def put(self, key: str, data: bytes) -> None:
        self.container.upload_blob(check_key(key), data, overwrite=True)

    def get(self, key: str) -> bytes:
        try:
            return bytes(self.container.download_blob(check_key(key)).readall())
        except ResourceNotFoundError:
            raise KeyError(key) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(self.container.list_blob_names(name_starts_with=prefix or None))

    def exists(self, key: str) -> bool:
        return bool(self.container.get_blob_client(check_key(key)).exists())

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under prefix; return how many."""
        names = list(self.list(prefix))
        for name in names:
            self.container.delete_blob(name)
        return len(names)
