"""Where the Azure silo's services are, and the credential and TLS settings to reach them.

Local mode: ``lab.localcloud.azure`` exports ``LAB_AZURE_*`` variables when it starts
the emulators (read here from the environment, since they appear after the
settings were first read). Real mode (``LAB_AZURE_MODE=real``): the typed fields
of ``lab.config`` name the account, vault and namespace; there is no connection
string and no CA override, and DefaultAzureCredential finds real credentials.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lab.cli import LabError
from lab.config import settings


@dataclass(frozen=True)
class AzureEndpoints:
    blob_url: str
    vault_url: str
    #: local: a connection string (SAS key of the emulator); real: empty (use the namespace + credential)
    eventhub_connection_string: str
    eventhub_namespace: str
    eventhub_name: str
    #: the lab CA for the local run; None = the system trust store (real cloud)
    ca_bundle: str | None
    local: bool

    def verify(self) -> bool | str:
        """The SDKs' ``connection_verify``: never False."""
        return self.ca_bundle or True


def azure_endpoints() -> AzureEndpoints:
    """The endpoints for the configured mode; LabError naming what is missing."""
    cfg = settings()
    if cfg.azure_mode == "real":
        missing = [name for name in ("azure_blob_account_url", "azure_vault_url", "azure_eventhub_namespace")
                   if not getattr(cfg, name)]
        if missing:
            raise LabError(f"LAB_AZURE_MODE=real needs {', '.join('LAB_' + m.upper() for m in missing)}")
        return AzureEndpoints(cfg.azure_blob_account_url, cfg.azure_vault_url, "", cfg.azure_eventhub_namespace,
                              cfg.azure_eventhub_name, None, False)
    env = os.environ
    needed = ("LAB_AZURE_BLOB_URL", "LAB_AZURE_VAULT_URL", "LAB_AZURE_EVENTHUB_CONNECTION_STRING", "IDENTITY_ENDPOINT")
    missing = [name for name in needed if not env.get(name)]
    if missing:
        raise LabError(f"the local Azure emulators are not running ({', '.join(missing)} unset): "
                       "use `with lab.localcloud.local_cloud('azure')` or `make up`")
    return AzureEndpoints(env["LAB_AZURE_BLOB_URL"], env["LAB_AZURE_VAULT_URL"],
                          env["LAB_AZURE_EVENTHUB_CONNECTION_STRING"], "", cfg.azure_eventhub_name,
                          env.get("LAB_AZURE_CA_BUNDLE"), True)


@lru_cache(maxsize=4)
def _credential(identity_endpoint: str) -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def credential() -> Any:
    """DefaultAzureCredential, shared per identity endpoint (it caches tokens). Locally it reaches the identity emulator."""
    return _credential(os.environ.get("IDENTITY_ENDPOINT", ""))
