"""Azure on the local cloud: Azurite (Blob, HTTPS + OAuth) and the project's own
Event Hubs, Key Vault and managed-identity emulators (``lab/emulators/``).

Client code always authenticates with ``DefaultAzureCredential``: locally it finds
the identity emulator through the standard ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``
variables. TLS stays verified: clients pass ``LAB_AZURE_CA_BUNDLE`` (the lab CA,
only set here, i.e. only for the local run) as the SDK's ``connection_verify``.
Endpoints the SDKs have no standard variable for are exported as ``LAB_AZURE_*``;
in real mode (``LAB_AZURE_MODE=real``) none of this runs and the endpoints come
from ``lab.config`` fields instead (see ``ingestion/azure/endpoints.py``).
"""
from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path

from lab.config import settings
from lab.emulators import FAKE_EVENTHUBS_KEY as FAKE_KEY
from lab.emulators import FAKE_EVENTHUBS_KEY_NAME as FAKE_KEY_NAME
from lab.emulators.tokens import SigningKey, jwks_file
from lab.localcloud.auth import AZURE_ROLES_DIR, azure_assignments, azure_signing_key
from lab.localcloud.base import LOOPBACK, Emulator
from lab.localcloud.registry import register
from lab.paths import REPO_ROOT
from lab.tls import ensure_ca, server_cert

#: Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"


def _azurite_blob() -> str:
    local = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    found = shutil.which("azurite-blob")
    if found is None:
        raise FileNotFoundError("azurite-blob (run `npm ci` at the repository root)")
    return found


def _ca_env() -> dict[str, str]:
    return {"LAB_AZURE_CA_BUNDLE": str(ensure_ca())}


def _auth_args() -> list[str]:
    """What a resource emulator needs to check tokens and roles (created at set-up if missing)."""
    SigningKey.ensure(azure_signing_key())
    return ["--jwks", str(jwks_file(azure_signing_key())), "--assignments", str(azure_assignments()),
            "--roles-dir", str(AZURE_ROLES_DIR)]


def _data_dir(name: str) -> Path:
    path = settings().state_dir / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class Azurite(Emulator):
    name = "azurite"
    cloud = "azure"
    description = "Azurite: Blob storage over HTTPS with OAuth (landing zone)"

    def prepare(self) -> None:
        server_cert("azurite")

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        cert, key = server_cert("azurite")
        return [
            _azurite_blob(), "--blobHost", LOOPBACK, "--blobPort", str(port),
            "--cert", str(cert), "--key", str(key), "--oauth", "basic",
            "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry", "--silent",
            "--location", str(_data_dir("azurite")),
        ]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"LAB_AZURE_BLOB_URL": f"https://{LOOPBACK}:{port}/{AZURITE_ACCOUNT}", **_ca_env()}


class EventHubsEmulator(Emulator):
    name = "eventhubs"
    cloud = "azure"
    description = "Event Hubs AMQP 1.0 emulator (lab.emulators.eventhubs)"

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        hub = f"{settings().azure_eventhub_name}:{settings().azure_eventhub_partitions}"
        return [sys.executable, "-m", "lab.emulators.eventhubs", "--port", str(port), "--hub", hub,
                "--data-dir", str(_data_dir("eventhubs")), *_auth_args()]

    def __init__(self) -> None:
        self._sas_key = ""

    def prepare(self) -> None:
        # A new namespace key each start: the name says fake, the value is not guessable.
        self._sas_key = f"{FAKE_KEY}-{secrets.token_urlsafe(24)}"

    def process_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"LAB_EVENTHUBS_SAS_KEY": self._sas_key}

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        conn = (f"Endpoint=sb://{LOOPBACK}:{port};SharedAccessKeyName={FAKE_KEY_NAME};"
                f"SharedAccessKey={self._sas_key};UseDevelopmentEmulator=true")
        return {"LAB_AZURE_EVENTHUB_CONNECTION_STRING": conn}


class KeyVaultEmulator(Emulator):
    name = "keyvault"
    cloud = "azure"
    description = "Key Vault keys emulator over HTTPS (lab.emulators.keyvault)"

    def prepare(self) -> None:
        server_cert("keyvault")

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        cert, key = server_cert("keyvault")
        return [sys.executable, "-m", "lab.emulators.keyvault", "--port", str(port), "--cert", str(cert),
                "--key", str(key), "--data-dir", str(_data_dir("keyvault")), *_auth_args()]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"LAB_AZURE_VAULT_URL": f"https://{LOOPBACK}:{port}", **_ca_env()}


class IdentityEmulator(Emulator):
    name = "identity"
    cloud = "azure"
    description = "Managed-identity token endpoint for DefaultAzureCredential (lab.emulators.identity)"

    def __init__(self) -> None:
        self._secret = ""

    def prepare(self) -> None:
        self._secret = f"fake-emulator-identity-{secrets.token_hex(8)}"

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        SigningKey.ensure(azure_signing_key())
        return [sys.executable, "-m", "lab.emulators.identity", "--port", str(port),
                "--signing-key", str(azure_signing_key()), "--assignments", str(azure_assignments())]

    def process_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"LAB_IDENTITY_HEADER": self._secret}

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"IDENTITY_ENDPOINT": f"http://{LOOPBACK}:{port}/msi/token", "IDENTITY_HEADER": self._secret}


for _emulator in (IdentityEmulator(), Azurite(), KeyVaultEmulator(), EventHubsEmulator()):
    register(_emulator)
