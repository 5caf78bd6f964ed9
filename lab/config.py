"""Typed configuration, read in one place.

Every setting comes from an environment variable with the ``LAB_`` prefix (or a
``.env`` file at the repository root). Switching a silo from its local emulator
to the real cloud is a configuration change only: set ``LAB_AWS_MODE=real``
(likewise ``LAB_AZURE_MODE`` / ``LAB_GCP_MODE``) and let each SDK find its
credentials through its own default chain.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lab.paths import REPO_ROOT

Mode = Literal["local", "real"]


class LabSettings(BaseSettings):
    """All knobs of the lab. Defaults run everything on the local cloud."""

    model_config = SettingsConfigDict(
        env_prefix="LAB_", env_file=REPO_ROOT / ".env", extra="ignore", frozen=True
    )

    aws_mode: Mode = "local"
    azure_mode: Mode = "local"
    gcp_mode: Mode = "local"

    state_dir: Path = Field(
        default=REPO_ROOT / ".lab",
        description="Run-time state: emulator pids/ports/logs, generated keys and certificates.",
    )
    aws_region: str = "us-east-1"
    gcp_project: str = "lab-local-project"
    gcp_location: str = "us-central1"
    name_prefix: str = Field(
        default="secure-ai-lab",
        pattern=r"^[a-z0-9][a-z0-9-]{2,40}$",
        description="Prefix of every cloud resource the lab creates.",
    )
    operator_key_file: Path | None = Field(
        default=None,
        description="The operator key that seals the trust store and model high-water mark (0600). "
                    "Default: <state_dir>/keys/operator.key; put it outside the state folder where that matters.",
    )
    model_signer: Literal["azure-keyvault", "aws-kms", "local"] = Field(
        default="azure-keyvault",
        description="Which key service signs FL models (the course: 'Key Vault stores model signing keys').",
    )
    model_signing_key: str = Field(
        default="secure-ai-lab-fl-model-signing", pattern=r"^[0-9A-Za-z-]{1,127}$",
        description="Name of the model-signing key (Key Vault key name; KMS alias without 'alias/').",
    )
    emulator_start_timeout_s: float = Field(default=60.0, gt=0)
    # Azure silo. In local mode the endpoints come from the emulators (LAB_AZURE_*_URL set by
    # lab.localcloud.azure); in real mode from these fields, with DefaultAzureCredential.
    azure_blob_account_url: str = Field(default="", description="Real mode: https://ACCOUNT.blob.core.windows.net")
    azure_vault_url: str = Field(default="", description="Real mode: https://VAULT.vault.azure.net")
    azure_eventhub_namespace: str = Field(default="", description="Real mode: NAMESPACE.servicebus.windows.net")
    azure_eventhub_name: str = Field(default="secure-ai-lab-records", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")
    azure_eventhub_partitions: int = Field(default=4, ge=1, le=32)
    azure_container: str = Field(default="secure-ai-lab-landing", pattern=r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
    azure_key_name: str = Field(default="secure-ai-lab-azure-kek", pattern=r"^[0-9A-Za-z-]{1,127}$")

    def mode(self, cloud: str) -> Mode:
        """The mode of one cloud by name ('aws', 'azure', 'gcp')."""
        return getattr(self, f"{cloud}_mode")

    @property
    def run_dir(self) -> Path:
        """Emulator state files and logs."""
        return self.state_dir / "run"

    @property
    def keys_dir(self) -> Path:
        """Locally generated key material (producer signing keys, local KEKs). Git-ignored."""
        return self.state_dir / "keys"

    @property
    def trust_dir(self) -> Path:
        """The sealed trust store (enrolled and revoked producers, pinned model keys)."""
        return self.state_dir / "trust"

    @property
    def quarantine_dir(self) -> Path:
        """Quarantine lists the detector wrote (record ids every training run leaves out)."""
        return self.state_dir / "quarantine"

    @property
    def certs_dir(self) -> Path:
        """The lab's local CA and server certificates. Git-ignored."""
        return self.state_dir / "certs"


@lru_cache(maxsize=1)
def settings() -> LabSettings:
    """The process-wide settings, validated once. A wrong value stops here, before work starts."""
    return LabSettings()
