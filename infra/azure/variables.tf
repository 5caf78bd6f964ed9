# Defaults equal lab/config.py (azure_eventhub_name, azure_eventhub_partitions, azure_container,
# azure_key_name) and ingestion/azure/provision.py (ROTATE_AFTER, KEY_EXPIRES_IN); tests/infra
# cross-checks them. Account, vault and namespace names must be globally unique: set them.

variable "name_prefix" {
  type    = string
  default = "secure-ai-lab"
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "resource_group_name" {
  type    = string
  default = "secure-ai-lab-azure"
}

variable "storage_account_name" {
  description = "LAB_AZURE_BLOB_ACCOUNT_URL becomes https://<this>.blob.core.windows.net"
  type        = string
}

variable "key_vault_name" {
  description = "LAB_AZURE_VAULT_URL becomes https://<this>.vault.azure.net"
  type        = string
}

variable "eventhub_namespace_name" {
  description = "LAB_AZURE_EVENTHUB_NAMESPACE becomes <this>.servicebus.windows.net"
  type        = string
}

variable "eventhub_name" {
  type    = string
  default = "secure-ai-lab-records"
}

variable "eventhub_partitions" {
  type    = number
  default = 4
}

variable "container_name" {
  type    = string
  default = "secure-ai-lab-landing"
}

variable "key_name" {
  type    = string
  default = "secure-ai-lab-azure-kek"
}

variable "key_rotate_after" {
  type    = string
  default = "P90D"
}

variable "key_expires_after" {
  type    = string
  default = "P2Y"
}

variable "key_expiration_date" {
  description = "Hard expiry of the current key version (the rotation policy renews versions before it)."
  type        = string
  default     = "2028-12-31T00:00:00Z"
}

variable "vnet_cidr" {
  type    = string
  default = "10.43.0.0/16"
}
