output "lab_environment" {
  description = "Settings that point the silo at this account (LAB_AWS_MODE=real)."
  value = {
    LAB_AWS_MODE    = "real"
    LAB_AWS_REGION  = var.region
    LAB_NAME_PREFIX = var.name_prefix
  }
}

output "key_arn" {
  value = aws_kms_key.landing.arn
}

output "role_arns" {
  value = { for k, r in aws_iam_role.silo : k => r.arn }
}
