# Kinesis stream and S3 landing bucket, both under the silo's key.
resource "aws_kinesis_stream" "records" {
  name             = local.stream
  shard_count      = 2 # ingestion/aws/provision.py STREAM_SHARDS
  retention_period = 24
  encryption_type  = "KMS"
  kms_key_id       = aws_kms_key.landing.arn
  stream_mode_details {
    stream_mode = "PROVISIONED"
  }
}

resource "aws_s3_bucket" "landing" {
  #checkov:skip=CKV_AWS_144:One-region silo by design: replication would copy training data into a second jurisdiction.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the consumer writes and verifies every object itself.
  #checkov:skip=CKV_AWS_18:Object-level access is audited with CloudTrail S3 data events (see README), not server access logs.
  bucket = local.bucket
}

resource "aws_s3_bucket_server_side_encryption_configuration" "landing" {
  bucket = aws_s3_bucket.landing.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.landing.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "landing" {
  bucket                  = aws_s3_bucket.landing.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "landing" {
  bucket = aws_s3_bucket.landing.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Retention from the playbook's data-governance section: dead letters 90 days, old versions 30.
resource "aws_s3_bucket_lifecycle_configuration" "landing" {
  bucket = aws_s3_bucket.landing.id
  rule {
    id     = "dead-letters-90-days"
    status = "Enabled"
    filter {
      prefix = "deadletter/"
    }
    expiration {
      days = 90
    }
  }
  rule {
    id     = "noncurrent-versions-30-days"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# TLS only, SSE-KMS under the landing key only: the same file the code lints and renders.
resource "aws_s3_bucket_policy" "landing" {
  bucket = aws_s3_bucket.landing.id
  policy = templatefile("${local.policy_dir}/bucket.json", {
    BUCKET  = local.bucket
    KEY_ARN = aws_kms_key.landing.arn
  })
}
