"""GCP on the local cloud: Pub/Sub (official emulator), BigQuery (bqemulator),
GCS (gcp-storage-emulator) and Cloud KMS (the lab's own emulator).

The SDKs find the first two through their standard variables
(``PUBSUB_EMULATOR_HOST``, ``STORAGE_EMULATOR_HOST``). BigQuery and Cloud KMS
clients have no such variable, so the lab sets ``LAB_GCP_BIGQUERY_ENDPOINT`` and
``LAB_GCP_KMS_ENDPOINT`` and its client factories read them; in real mode
(``LAB_GCP_MODE=real``) none is set and the SDKs use Google's endpoints and
Application Default Credentials.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from lab.config import settings
from lab.emulators.tokens import CLOUD_PLATFORM, GCP_ISSUER, SigningKey, jwks_file
from lab.localcloud.auth import GCP_IAM_DIR, gcp_bindings, gcp_signing_key
from lab.localcloud.base import LOOPBACK, Emulator, EmulatorError, free_port, http_ready, port_open
from lab.localcloud.registry import register

#: Environment variables (no SDK-standard one exists for these two services).
BIGQUERY_ENDPOINT_VAR = "LAB_GCP_BIGQUERY_ENDPOINT"
KMS_ENDPOINT_VAR = "LAB_GCP_KMS_ENDPOINT"
#: The local token endpoint and its secret (the GCP side of lab.emulators.identity).
TOKEN_ENDPOINT_VAR, TOKEN_HEADER_VAR = "LAB_GCP_TOKEN_ENDPOINT", "LAB_GCP_TOKEN_HEADER"
#: Which lab service account a process acts as locally (default: the operator, see lab.localcloud.auth).
SERVICE_ACCOUNT_VAR = "LAB_GCP_SERVICE_ACCOUNT"


def local_credentials(service_account: str | None = None) -> object:
    """google.auth credentials whose tokens come from the local token endpoint.

    The same object type the SDK uses everywhere (``google.oauth2.credentials.Credentials``),
    refreshed by a handler that asks the lab's endpoint instead of Google's; in real
    mode callers use Application Default Credentials instead, so switching is configuration.
    """
    from google.oauth2.credentials import Credentials

    endpoint, secret = os.environ.get(TOKEN_ENDPOINT_VAR), os.environ.get(TOKEN_HEADER_VAR)
    if not endpoint or not secret:
        raise EmulatorError(f"{TOKEN_ENDPOINT_VAR}/{TOKEN_HEADER_VAR} unset: start the local cloud (gcp) first")
    account = service_account or os.environ.get(SERVICE_ACCOUNT_VAR, "")

    def refresh(request: object, scopes: object) -> tuple[str, dt.datetime]:
        query = urllib.parse.urlencode({"api-version": "2019-08-01", "resource": CLOUD_PLATFORM,
                                        **({"client_id": account} if account else {})})
        response = request(url=f"{endpoint}?{query}", method="GET",  # type: ignore[operator]
                           headers={"X-IDENTITY-HEADER": secret})
        if response.status != 200:
            raise EmulatorError(f"the local GCP token endpoint answered HTTP {response.status}")
        body = json.loads(response.data)
        expiry = dt.datetime.fromtimestamp(int(body["expires_on"]), dt.timezone.utc).replace(tzinfo=None)
        return str(body["access_token"]), expiry

    return Credentials(token=None, refresh_handler=refresh)


def _venv_tool(name: str) -> str:
    """A console script installed beside the interpreter running the lab."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} (pip package {name}; run `make setup`)")
    return found


def pubsub_emulator_launcher() -> str:
    """The official Pub/Sub emulator shipped with the Google Cloud CLI, or a clear error."""
    roots: list[Path] = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        try:
            out = subprocess.run(  # noqa: S603 - fixed argv
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True, text=True, timeout=30, check=False,
            ).stdout.strip()
            if out:
                roots.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    roots += [Path("/usr/lib/google-cloud-sdk"), Path("/usr/share/google-cloud-sdk")]
    for root in roots:
        launcher = root / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
        if launcher.exists():
            return str(launcher)
    raise EmulatorError(
        "the Pub/Sub emulator is not installed: it ships with the Google Cloud CLI "
        "(package google-cloud-cli-pubsub-emulator, plus Java 17). Install it, or run the GCP silo "
        "against a real project with LAB_GCP_MODE=real."
    )


def bigquery_offline_ready() -> bool:
    """True when DuckDB's spatial extension is installed locally (bqemulator needs it at start)."""
    import duckdb

    rows = duckdb.sql(
        "SELECT installed FROM duckdb_extensions() WHERE extension_name = 'spatial'"
    ).fetchall()
    return bool(rows and rows[0][0])


def prepare_bigquery_offline() -> None:
    """Install DuckDB's spatial extension from its PyPI wheel, so bqemulator never downloads it."""
    if bigquery_offline_ready():
        return
    try:
        from duckdb_extensions import import_extension
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmulatorError("duckdb-extensions is missing; run `make setup`") from exc
    import_extension("spatial")
    if not bigquery_offline_ready():  # pragma: no cover - defensive
        raise EmulatorError("could not install the DuckDB spatial extension for bqemulator")


class PubSubEmulator(Emulator):
    name = "pubsub"
    cloud = "gcp"
    description = "official Pub/Sub emulator (Google Cloud CLI, Java)"

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        return [pubsub_emulator_launcher(), f"--host={LOOPBACK}", f"--port={port}"]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"PUBSUB_EMULATOR_HOST": f"{LOOPBACK}:{port}"}

    def is_ready(self, port: int, extra_ports: dict[str, int]) -> bool:
        return http_ready(f"http://{LOOPBACK}:{port}/", require_ok=True)  # answers "Ok" once serving


class BigQueryEmulator(Emulator):
    name = "bigquery"
    cloud = "gcp"
    description = "bqemulator (DuckDB-backed BigQuery REST API), in memory"

    def prepare(self) -> None:
        prepare_bigquery_offline()

    def extra_ports(self) -> dict[str, int]:
        return {"grpc": free_port()}

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        return [
            _venv_tool("bqemulator"), "start",
            "--rest-host", LOOPBACK, "--rest-port", str(port),
            "--grpc-host", LOOPBACK, "--grpc-port", str(extra_ports["grpc"]),
            "--ephemeral", "--project", settings().gcp_project, "--log-level", "warning",
        ]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {BIGQUERY_ENDPOINT_VAR: f"http://{LOOPBACK}:{port}"}

    def is_ready(self, port: int, extra_ports: dict[str, int]) -> bool:
        url = f"http://{LOOPBACK}:{port}/bigquery/v2/projects/{settings().gcp_project}/datasets"
        return http_ready(url, require_ok=True)


class StorageEmulator(Emulator):
    name = "gcs"
    cloud = "gcp"
    description = "gcp-storage-emulator (GCS JSON API), in memory"

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        return [_venv_tool("gcp-storage-emulator"), "start", "-H", LOOPBACK, "--port", str(port), "-M", "-q"]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": f"http://{LOOPBACK}:{port}"}

    def is_ready(self, port: int, extra_ports: dict[str, int]) -> bool:
        try:
            with urllib.request.urlopen(  # nosec B310 - fixed loopback URL
                f"http://{LOOPBACK}:{port}/storage/v1/b?project={settings().gcp_project}", timeout=1
            ) as resp:
                return resp.status == 200 and "kind" in json.loads(resp.read() or b"{}")
        except (OSError, ValueError):
            return False


class GcpTokenEmulator(Emulator):
    name = "gcptoken"
    cloud = "gcp"
    description = "token endpoint of the GCP silo's credentials (lab.emulators.identity, GCP issuer)"

    def __init__(self) -> None:
        self._secret = ""

    def prepare(self) -> None:
        SigningKey.ensure(gcp_signing_key())
        self._secret = f"fake-emulator-gcp-token-{secrets.token_hex(8)}"

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        return [sys.executable, "-m", "lab.emulators.identity", "--port", str(port), "--issuer", GCP_ISSUER,
                "--signing-key", str(gcp_signing_key()), "--assignments", str(gcp_bindings())]

    def process_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {"LAB_IDENTITY_HEADER": self._secret}

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {TOKEN_ENDPOINT_VAR: f"http://{LOOPBACK}:{port}/token", TOKEN_HEADER_VAR: self._secret}


class CloudKmsEmulator(Emulator):
    name = "cloudkms"
    cloud = "gcp"
    description = "the lab's Cloud KMS emulator (gRPC, bearer tokens + IAM bindings, lab/emulators/cloudkms.py)"

    def prepare(self) -> None:
        SigningKey.ensure(gcp_signing_key())

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        return [sys.executable, "-m", "lab.emulators.cloudkms", "--port", str(port),
                "--jwks", str(jwks_file(gcp_signing_key())), "--bindings", str(gcp_bindings()),
                "--roles-dir", str(GCP_IAM_DIR)]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {KMS_ENDPOINT_VAR: f"{LOOPBACK}:{port}"}

    def is_ready(self, port: int, extra_ports: dict[str, int]) -> bool:
        """A real RPC (ListKeyRings) without a token: UNAUTHENTICATED means it serves and checks."""
        if not port_open(port):
            return False
        import grpc
        from google.cloud.kms_v1.types import service

        credentials = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        with grpc.secure_channel(f"{LOOPBACK}:{port}", credentials) as channel:
            call = channel.unary_unary(
                "/google.cloud.kms.v1.KeyManagementService/ListKeyRings",
                request_serializer=service.ListKeyRingsRequest.serialize,
                response_deserializer=service.ListKeyRingsResponse.deserialize,
            )
            try:
                call(service.ListKeyRingsRequest(parent="projects/health/locations/check"), timeout=2)
            except grpc.RpcError as exc:
                return exc.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
        return False  # answered without a token: not the authenticating emulator


for _emulator in (GcpTokenEmulator(), PubSubEmulator(), BigQueryEmulator(), StorageEmulator(), CloudKmsEmulator()):
    register(_emulator)
