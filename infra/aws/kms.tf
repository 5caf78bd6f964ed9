# The silo's key: wraps envelope data keys, encrypts the stream, the bucket and the flow logs.
resource "aws_kms_key" "landing" {
  description              = "Secure AI lab: AWS silo landing + stream encryption"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  rotation_period_in_days  = local.key_rotation_days
  deletion_window_in_days  = 30
  policy                   = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "landing" {
  name          = local.key_alias
  target_key_id = aws_kms_key.landing.key_id
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_356:In a key policy "*" is the key the policy is attached to, not every resource.
  #checkov:skip=CKV_AWS_109:The account root statement delegates to IAM; without it the key becomes unmanageable.
  #checkov:skip=CKV_AWS_111:Same statement: key policies need the root delegation, IAM policies then scope each role.
  statement {
    sid       = "AccountRootDelegatesToIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account}:root"]
    }
  }
  statement {
    sid       = "FlowLogsEncryptTheirLogGroup"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${var.region}:${local.account}:log-group:/${var.name_prefix}/aws/vpc-flow-logs"]
    }
  }
  statement {
    sid       = "TrainerDecryptsOnlyItsSilo"
    effect    = "Deny"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.silo["trainer"].arn]
    }
    condition {
      test     = "StringNotEquals"
      variable = "kms:EncryptionContext:silo"
      values   = ["aws"]
    }
    # S3 decrypts SSE-KMS objects for the trainer's GetObject under S3's own context, not "silo".
    condition {
      test     = "StringNotEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}
