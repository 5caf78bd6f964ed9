output "lab_environment" {
  description = "Settings that point the silo at this subscription (LAB_AZURE_MODE=real)."
  value = {
    LAB_AZURE_MODE               = "real"
    LAB_AZURE_BLOB_ACCOUNT_URL   = azurerm_storage_account.landing.primary_blob_endpoint
    LAB_AZURE_VAULT_URL          = azurerm_key_vault.silo.vault_uri
    LAB_AZURE_EVENTHUB_NAMESPACE = "${azurerm_eventhub_namespace.silo.name}.servicebus.windows.net"
    LAB_AZURE_EVENTHUB_NAME      = azurerm_eventhub.records.name
    LAB_AZURE_CONTAINER          = azurerm_storage_container.landing.name
    LAB_AZURE_KEY_NAME           = azurerm_key_vault_key.kek.name
  }
}

output "identity_client_ids" {
  description = "AZURE_CLIENT_ID of each workload (DefaultAzureCredential picks the user-assigned identity)."
  value       = { for k, i in azurerm_user_assigned_identity.silo : k => i.client_id }
}
