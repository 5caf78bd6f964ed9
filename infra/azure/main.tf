# The Azure silo's real-cloud controls: Event Hubs, Key Vault and Blob storage reachable only
# through private endpoints (public network access off), Entra ID only (no SAS or shared keys),
# managed identities with role assignments scoped to one resource each.

data "azurerm_client_config" "current" {}

locals {
  private_dns = {
    eventhub = "privatelink.servicebus.windows.net"
    vault    = "privatelink.vaultcore.azure.net"
    blob     = "privatelink.blob.core.windows.net"
  }
  identities = toset(["producer", "consumer", "trainer"])
}

resource "azurerm_resource_group" "silo" {
  name     = var.resource_group_name
  location = var.location
}

resource "azurerm_virtual_network" "silo" {
  name                = "${var.name_prefix}-azure-vnet"
  location            = azurerm_resource_group.silo.location
  resource_group_name = azurerm_resource_group.silo.name
  address_space       = [var.vnet_cidr]
}

resource "azurerm_subnet" "endpoints" {
  name                 = "private-endpoints"
  resource_group_name  = azurerm_resource_group.silo.name
  virtual_network_name = azurerm_virtual_network.silo.name
  address_prefixes     = [cidrsubnet(var.vnet_cidr, 8, 1)]
}

resource "azurerm_network_security_group" "endpoints" {
  name                = "${var.name_prefix}-azure-endpoints"
  location            = azurerm_resource_group.silo.location
  resource_group_name = azurerm_resource_group.silo.name
  security_rule {
    name                       = "https-from-the-vnet"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["443", "5671"]
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "VirtualNetwork"
  }
}

resource "azurerm_subnet_network_security_group_association" "endpoints" {
  subnet_id                 = azurerm_subnet.endpoints.id
  network_security_group_id = azurerm_network_security_group.endpoints.id
}

resource "azurerm_private_dns_zone" "zone" {
  for_each            = local.private_dns
  name                = each.value
  resource_group_name = azurerm_resource_group.silo.name
}

resource "azurerm_private_dns_zone_virtual_network_link" "zone" {
  for_each              = local.private_dns
  name                  = "${var.name_prefix}-${each.key}"
  resource_group_name   = azurerm_resource_group.silo.name
  private_dns_zone_name = azurerm_private_dns_zone.zone[each.key].name
  virtual_network_id    = azurerm_virtual_network.silo.id
}

locals {
  private_endpoints = {
    eventhub = { id = azurerm_eventhub_namespace.silo.id, subresource = "namespace" }
    vault    = { id = azurerm_key_vault.silo.id, subresource = "vault" }
    blob     = { id = azurerm_storage_account.landing.id, subresource = "blob" }
  }
}

resource "azurerm_private_endpoint" "pe" {
  for_each            = local.private_endpoints
  name                = "${var.name_prefix}-${each.key}-pe"
  location            = azurerm_resource_group.silo.location
  resource_group_name = azurerm_resource_group.silo.name
  subnet_id           = azurerm_subnet.endpoints.id
  private_service_connection {
    name                           = "${var.name_prefix}-${each.key}"
    private_connection_resource_id = each.value.id
    subresource_names              = [each.value.subresource]
    is_manual_connection           = false
  }
  private_dns_zone_group {
    name                 = each.key
    private_dns_zone_ids = [azurerm_private_dns_zone.zone[each.key].id]
  }
}
