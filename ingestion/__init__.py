"""Streaming ingestion: record contract, producers and consumers per cloud."""
