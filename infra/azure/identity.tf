# Managed identities and their role assignments: the documents in ingestion/azure/roles/
# (tests/infra checks that role names, custom-role data actions and scopes agree).

resource "azurerm_user_assigned_identity" "silo" {
  for_each            = local.identities
  name                = "${var.name_prefix}-azure-${each.key}"
  location            = azurerm_resource_group.silo.location
  resource_group_name = azurerm_resource_group.silo.name
}

resource "azurerm_role_definition" "landing_writer" {
  name  = "Secure AI Lab Landing Writer"
  scope = azurerm_storage_account.landing.id
  permissions {
    actions = []
    data_actions = [
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
    ]
  }
  assignable_scopes = [azurerm_storage_account.landing.id]
}

resource "azurerm_role_definition" "key_unwrapper" {
  name  = "Secure AI Lab Key Unwrapper"
  scope = azurerm_key_vault.silo.id
  permissions {
    actions = []
    data_actions = [
      "Microsoft.KeyVault/vaults/keys/read",
      "Microsoft.KeyVault/vaults/keys/unwrap/action",
    ]
  }
  assignable_scopes = [azurerm_key_vault.silo.id]
}

locals {
  hub_scope       = azurerm_eventhub.records.id
  container_scope = azurerm_storage_container.landing.resource_manager_id
  key_scope       = azurerm_key_vault_key.kek.resource_versionless_id
  assignments = {
    producer-sender   = { identity = "producer", role = "Azure Event Hubs Data Sender", scope = local.hub_scope }
    consumer-receiver = { identity = "consumer", role = "Azure Event Hubs Data Receiver", scope = local.hub_scope }
    consumer-crypto   = { identity = "consumer", role = "Key Vault Crypto Service Encryption User", scope = local.key_scope }
    trainer-reader    = { identity = "trainer", role = "Storage Blob Data Reader", scope = local.container_scope }
    producer-secret   = { identity = "producer", role = "Key Vault Secrets User", scope = azurerm_key_vault_secret.producer_signing_key.resource_versionless_id }
  }
}

resource "azurerm_role_assignment" "builtin" {
  for_each             = local.assignments
  principal_id         = azurerm_user_assigned_identity.silo[each.value.identity].principal_id
  role_definition_name = each.value.role
  scope                = each.value.scope
}

resource "azurerm_role_assignment" "consumer_writer" {
  principal_id       = azurerm_user_assigned_identity.silo["consumer"].principal_id
  role_definition_id = azurerm_role_definition.landing_writer.role_definition_resource_id
  scope              = local.container_scope
}

resource "azurerm_role_assignment" "trainer_unwrapper" {
  principal_id       = azurerm_user_assigned_identity.silo["trainer"].principal_id
  role_definition_id = azurerm_role_definition.key_unwrapper.role_definition_resource_id
  scope              = local.key_scope
}

resource "azurerm_role_assignment" "storage_cmk" {
  principal_id         = azurerm_user_assigned_identity.storage_cmk.principal_id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  scope                = local.key_scope
}
