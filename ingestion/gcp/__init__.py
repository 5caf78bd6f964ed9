"""The GCP silo: Pub/Sub stream, BigQuery table and GCS batches, Cloud KMS envelope keys."""
