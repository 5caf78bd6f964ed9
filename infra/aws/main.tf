# The AWS silo's real-cloud controls. The local silo (ingestion/aws/provision.py) creates the
# same resources under the same names on moto; what moto stores but does not enforce (key and
# bucket policies, endpoint policies, private DNS) is enforced here.

data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  # The names of ingestion/aws/provision.py names(); tests/infra cross-checks them.
  key_alias = "alias/${var.name_prefix}-aws-landing"
  stream    = "${var.name_prefix}-aws-records"
  bucket    = "${var.name_prefix}-aws-landing-${local.account}-${var.region}"
  vpc_name  = "${var.name_prefix}-aws-vpc"
  # ingestion/aws/provision.py VPC_CIDR, SUBNET_CIDR, KEY_ROTATION_DAYS
  vpc_cidr           = "10.42.0.0/16"
  subnet_cidr        = "10.42.1.0/24"
  key_rotation_days  = 365
  policy_dir         = "${path.module}/../../ingestion/aws/policies"
  roles              = toset(["producer", "consumer", "trainer"])
  silo_role_arns     = [for r in aws_iam_role.silo : r.arn]
  stream_arn         = "arn:aws:kinesis:${var.region}:${local.account}:stream/${local.stream}"
  bucket_arn         = "arn:aws:s3:::${local.bucket}"
  interface_services = toset(["kinesis-streams", "kms"])
}
