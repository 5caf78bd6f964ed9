# Audit trail: blob reads/writes/deletes, Key Vault key operations and Event Hubs runtime logs
# go to one Log Analytics workspace, kept a year.
resource "azurerm_log_analytics_workspace" "audit" {
  name                = "${var.name_prefix}-azure-audit"
  location            = azurerm_resource_group.silo.location
  resource_group_name = azurerm_resource_group.silo.name
  sku                 = "PerGB2018"
  retention_in_days   = 365
}

locals {
  diagnostics = {
    blob     = { id = "${azurerm_storage_account.landing.id}/blobServices/default", logs = ["StorageRead", "StorageWrite", "StorageDelete"] }
    vault    = { id = azurerm_key_vault.silo.id, logs = ["AuditEvent"] }
    eventhub = { id = azurerm_eventhub_namespace.silo.id, logs = ["RuntimeAuditLogs"] }
  }
}

resource "azurerm_monitor_diagnostic_setting" "audit" {
  for_each                   = local.diagnostics
  name                       = "${var.name_prefix}-${each.key}-audit"
  target_resource_id         = each.value.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.audit.id
  dynamic "enabled_log" {
    for_each = toset(each.value.logs)
    content {
      category = enabled_log.value
    }
  }
}
