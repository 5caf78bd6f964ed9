# Event hub, Key Vault with the key-encryption key, and the landing container.

resource "azurerm_eventhub_namespace" "silo" {
  name                          = var.eventhub_namespace_name
  location                      = azurerm_resource_group.silo.location
  resource_group_name           = azurerm_resource_group.silo.name
  sku                           = "Premium"
  capacity                      = 1
  public_network_access_enabled = false
  local_authentication_enabled  = false # no SAS: DefaultAzureCredential only
  minimum_tls_version           = "1.2"
  network_rulesets {
    default_action                 = "Deny"
    public_network_access_enabled  = false
    trusted_service_access_enabled = false
  }
}

resource "azurerm_eventhub" "records" {
  name              = var.eventhub_name
  namespace_id      = azurerm_eventhub_namespace.silo.id
  partition_count   = var.eventhub_partitions
  message_retention = 1
}

resource "azurerm_key_vault" "silo" {
  name                          = var.key_vault_name
  location                      = azurerm_resource_group.silo.location
  resource_group_name           = azurerm_resource_group.silo.name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "premium"
  enable_rbac_authorization     = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false
  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
  }
}

# The key-encryption key of ingestion/azure/provision.py ensure_key(): RSA 3072, wrap/unwrap
# only, rotated every 90 days, versions expire after two years.
resource "azurerm_key_vault_key" "kek" {
  name            = var.key_name
  key_vault_id    = azurerm_key_vault.silo.id
  key_type        = "RSA-HSM"
  key_size        = 3072
  key_opts        = ["wrapKey", "unwrapKey"]
  expiration_date = var.key_expiration_date
  rotation_policy {
    automatic {
      time_after_creation = var.key_rotate_after
    }
    expire_after         = var.key_expires_after
    notify_before_expiry = "P30D"
  }
}

# The one secret that cannot be a Key Vault key: a producer's Ed25519 signing key (Key Vault
# keys offer no Ed25519). Terraform creates the slot only; the value is uploaded out of band
# (`az keyvault secret set`, see README) so that it never sits in Terraform state.
resource "azurerm_key_vault_secret" "producer_signing_key" {
  name            = "${var.name_prefix}-producer-signing-key"
  key_vault_id    = azurerm_key_vault.silo.id
  value           = "set-out-of-band"
  content_type    = "application/x-pem-file"
  expiration_date = var.key_expiration_date
  lifecycle {
    ignore_changes = [value]
  }
}

resource "azurerm_user_assigned_identity" "storage_cmk" {
  name                = "${var.name_prefix}-storage-cmk"
  location            = azurerm_resource_group.silo.location
  resource_group_name = azurerm_resource_group.silo.name
}

resource "azurerm_storage_account" "landing" {
  #checkov:skip=CKV_AZURE_33:Blobs only: no queue exists on this account, so there are no queue requests to log.
  name                              = var.storage_account_name
  location                          = azurerm_resource_group.silo.location
  resource_group_name               = azurerm_resource_group.silo.name
  account_tier                      = "Standard"
  account_replication_type          = "GZRS"
  is_hns_enabled                    = true
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  public_network_access_enabled     = false
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  local_user_enabled                = false
  infrastructure_encryption_enabled = true
  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
  }
  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.storage_cmk.id]
  }
  customer_managed_key {
    key_vault_key_id          = azurerm_key_vault_key.kek.versionless_id
    user_assigned_identity_id = azurerm_user_assigned_identity.storage_cmk.id
  }
  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }
  sas_policy {
    expiration_period = "01.00:00:00"
  }
}

resource "azurerm_storage_container" "landing" {
  #checkov:skip=CKV2_AZURE_21:Blob read/write/delete logs go to Log Analytics by the diagnostic setting in logging.tf; the storage-insights resource this check wants needs a shared key, which is disabled here.
  name                  = var.container_name
  storage_account_id    = azurerm_storage_account.landing.id
  container_access_type = "private"
}
