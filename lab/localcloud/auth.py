"""Who is who on the local cloud: token-signing keys and role assignments (operator configuration).

Set-up writes, once, under the lab's state folder (git-ignored, 0700):

- one RSA signing key per token issuer (the Azure identity emulator, the GCP metadata
  emulator), 0600, with its public JWKS beside it;
- one assignment file per cloud naming the principals and the identities whose role
  documents they hold (``ingestion/azure/roles/<identity>.json``,
  ``ingestion/gcp/iam/<identity>.json``).

The resource emulators authorise from these files and the role documents only; a token
says who the caller is, never what it may do. Locally the scripts run as the
*operator* principal (the default when no client id / service account is asked for),
which holds the key-admin role and the three pipeline roles; ``producer``,
``consumer`` and ``trainer`` principals hold only their own role. Edit the files to
change who may do what; the emulators re-read them on change.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from lab.config import settings
from lab.paths import REPO_ROOT

AZURE_ROLES_DIR = REPO_ROOT / "ingestion" / "azure" / "roles"
GCP_IAM_DIR = REPO_ROOT / "ingestion" / "gcp" / "iam"
PIPELINE_IDENTITIES = ("producer", "consumer", "trainer")
ADMIN_IDENTITY = "keyadmin"
OPERATOR = "operator"


def auth_dir() -> Path:
    path = settings().state_dir / "auth"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def azure_signing_key() -> Path:
    return auth_dir() / "azure-identity-key.pem"


def gcp_signing_key() -> Path:
    return auth_dir() / "gcp-metadata-key.pem"


def gcp_member(identity: str) -> str:
    """The service-account email of a lab identity (what the metadata server names)."""
    return f"lab-{identity}@{settings().gcp_project}.iam.gserviceaccount.com"


def _principals(name_of: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    principals = {name_of[OPERATOR]: {"identities": [ADMIN_IDENTITY, *PIPELINE_IDENTITIES]}}
    principals.update({name_of[i]: {"identities": [i]} for i in PIPELINE_IDENTITIES})
    return principals


def _write_once(path: Path, config: dict[str, object]) -> Path:
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(config, out, indent=2)
        tmp.replace(path)
    return path


def azure_assignments() -> Path:
    """Principals of the identity emulator and their roles (created with the defaults if missing)."""
    names = {i: f"lab-{i}" for i in (OPERATOR, *PIPELINE_IDENTITIES)}
    return _write_once(auth_dir() / "azure-role-assignments.json",
                       {"default": names[OPERATOR], "principals": _principals(names)})


def gcp_bindings() -> Path:
    """Service accounts of the metadata emulator and their Cloud KMS bindings.

    ``scope`` is a key-ring pattern: ``*`` (every ring of the emulator) by default; name one
    ring (``projects/P/locations/L/keyRings/R``) to bind a member on that ring only."""
    names = {i: gcp_member(i) for i in (OPERATOR, *PIPELINE_IDENTITIES)}
    principals = _principals(names)
    for entry in principals.values():
        entry["scope"] = "*"  # type: ignore[assignment]
    return _write_once(auth_dir() / "gcp-iam-bindings.json", {"default": names[OPERATOR], "principals": principals})
