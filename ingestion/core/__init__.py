"""Cloud-agnostic ingestion core: validate, deduplicate, batch, land, verify."""
