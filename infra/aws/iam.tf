# Least-privilege roles: the policy documents are the JSON templates in
# ingestion/aws/policies/ that the lab lints with parliament and tests against moto.
resource "aws_iam_role" "silo" {
  for_each           = local.roles
  name               = "${var.name_prefix}-aws-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
}

data "aws_iam_policy_document" "assume" {
  for_each = local.roles
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.workload_principal_arns[each.key]
    }
  }
}

resource "aws_iam_role_policy" "silo" {
  for_each = local.roles
  name     = "${var.name_prefix}-aws-${each.key}"
  role     = aws_iam_role.silo[each.key].id
  policy = templatefile("${local.policy_dir}/${each.key}.json", {
    ACCOUNT = local.account
    REGION  = var.region
    STREAM  = local.stream
    KEY_ID  = aws_kms_key.landing.key_id
    BUCKET  = local.bucket
  })
}
