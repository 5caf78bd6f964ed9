"""The AWS silo: Kinesis Data Streams -> validating consumer -> S3 (SSE-KMS + envelope encryption)."""
