"""The Azure silo: Event Hubs stream -> envelope-encrypted batches in Blob (ADLS Gen2 layout), Key Vault keys."""
