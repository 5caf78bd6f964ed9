"""infra/azure names the hub, container and key of lab/config.py and assigns the roles of ingestion/azure/roles/."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingestion.azure import provision
from lab.config import LabSettings

from .hcl import Module, module

ROLES_DIR = Path(provision.__file__).resolve().parent / "roles"
DEFAULTS = {  # Terraform variable -> lab/config.py field
    "eventhub_name": "azure_eventhub_name",
    "eventhub_partitions": "azure_eventhub_partitions",
    "container_name": "azure_container",
    "key_name": "azure_key_name",
    "name_prefix": "name_prefix",
}


@pytest.fixture(scope="module")
def azure() -> Module:
    return module("azure")


def test_names_default_to_the_lab_configuration(azure: Module) -> None:
    for variable, field in DEFAULTS.items():
        assert azure.variables[variable] == LabSettings.model_fields[field].default, variable
    assert azure.resource("azurerm_eventhub", "records")["name"] == "${var.eventhub_name}"
    assert azure.resource("azurerm_storage_container", "landing")["name"] == "${var.container_name}"
    assert azure.resource("azurerm_key_vault_key", "kek")["name"] == "${var.key_name}"


def test_key_matches_ensure_key(azure: Module) -> None:
    key = azure.resource("azurerm_key_vault_key", "kek")
    assert key["key_size"] == 3072 and sorted(key["key_opts"]) == ["unwrapKey", "wrapKey"]
    policy = key["rotation_policy"][0]
    assert azure.resolve(policy["automatic"][0]["time_after_creation"]) == provision.ROTATE_AFTER
    assert azure.resolve(policy["expire_after"]) == provision.KEY_EXPIRES_IN
    vault = azure.resource("azurerm_key_vault", "silo")
    assert vault["purge_protection_enabled"] is True and vault["enable_rbac_authorization"] is True


def test_public_network_access_is_off_and_private_endpoints_exist(azure: Module) -> None:
    for rtype, name in (("azurerm_eventhub_namespace", "silo"), ("azurerm_key_vault", "silo"),
                        ("azurerm_storage_account", "landing")):
        assert azure.resource(rtype, name)["public_network_access_enabled"] is False, rtype
    assert set(azure.locals["private_endpoints"]) == {"eventhub", "vault", "blob"}
    assert azure.resource("azurerm_eventhub_namespace", "silo")["local_authentication_enabled"] is False
    assert azure.resource("azurerm_storage_account", "landing")["shared_access_key_enabled"] is False


def _terraform_grants(azure: Module) -> set[tuple[str, str]]:
    """(identity, role name) of every role assignment to the silo identities."""
    grants = {(a["identity"], a["role"]) for a in azure.locals["assignments"].values()}
    custom = {name: body["name"] for name, body in azure.resources["azurerm_role_definition"].items()}
    for body in azure.resources["azurerm_role_assignment"].values():
        principal, definition = body["principal_id"], body.get("role_definition_id", "")
        for ident in ("producer", "consumer", "trainer"):
            if f'silo["{ident}"]' in principal:
                grants |= {(ident, role) for res, role in custom.items() if f".{res}." in definition}
    return grants


def _documented(identity: str) -> list[dict[str, Any]]:
    return list(json.loads((ROLES_DIR / f"{identity}.json").read_text())["assignments"])


@pytest.mark.parametrize("identity", ["producer", "consumer", "trainer"])
def test_role_assignments_are_the_documented_ones(azure: Module, identity: str) -> None:
    documented = {(identity, a["role"]) for a in _documented(identity)}
    granted = {g for g in _terraform_grants(azure) if g[0] == identity}
    # The producer's extra grant is the one unavoidable secret (its signing key), see services.tf.
    assert granted - documented <= {("producer", "Key Vault Secrets User")}
    assert documented <= granted, documented - granted


def test_custom_roles_grant_exactly_the_documented_data_actions(azure: Module) -> None:
    documented = {a["role"]: sorted(a["permissions"]["dataActions"])
                  for ident in ("consumer", "trainer") for a in _documented(ident) if a["type"] == "CustomRole"}
    defined = {body["name"]: sorted(body["permissions"][0]["data_actions"])
               for body in azure.resources["azurerm_role_definition"].values()}
    assert defined == documented
