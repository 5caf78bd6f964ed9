# Private path: the silo's workloads reach Kinesis and KMS through interface endpoints and S3
# through a gateway endpoint; each endpoint policy admits only the silo's resources and roles.
resource "aws_vpc" "silo" {
  cidr_block           = local.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = local.vpc_name }
}

resource "aws_default_security_group" "silo" {
  vpc_id = aws_vpc.silo.id # no rules: nothing uses the default group
}

resource "aws_subnet" "private" {
  vpc_id     = aws_vpc.silo.id
  cidr_block = local.subnet_cidr
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.silo.id
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-aws-endpoints"
  description = "HTTPS from inside the silo VPC to the Kinesis and KMS interface endpoints"
  vpc_id      = aws_vpc.silo.id
  ingress {
    description = "HTTPS from the silo VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [local.vpc_cidr]
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_services
  vpc_id              = aws_vpc.silo.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [aws_subnet.private.id]
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  policy              = data.aws_iam_policy_document.endpoint[each.key].json
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.silo.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  policy            = data.aws_iam_policy_document.endpoint["s3"].json
}

locals {
  # What each endpoint lets the silo's roles do, and on which resource.
  endpoint_grants = {
    "kinesis-streams" = {
      actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
      resources = [local.stream_arn]
    }
    kms = {
      actions   = ["kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"]
      resources = [aws_kms_key.landing.arn]
    }
    s3 = {
      actions   = ["s3:PutObject", "s3:GetObject", "s3:ListBucket"]
      resources = [local.bucket_arn, "${local.bucket_arn}/*"]
    }
  }
}

data "aws_iam_policy_document" "endpoint" {
  for_each = local.endpoint_grants
  statement {
    sid       = "OnlyTheSiloRolesOnTheSiloResources"
    actions   = each.value.actions
    resources = each.value.resources
    principals {
      type        = "AWS"
      identifiers = local.silo_role_arns
    }
  }
}

# VPC flow logs, encrypted with the silo key and kept for a year.
resource "aws_cloudwatch_log_group" "flow" {
  name              = "/${var.name_prefix}/aws/vpc-flow-logs"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.landing.arn
}

resource "aws_flow_log" "silo" {
  vpc_id          = aws_vpc.silo.id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow.arn
  iam_role_arn    = aws_iam_role.flow_logs.arn
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name_prefix}-aws-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_trust.json
}

data "aws_iam_policy_document" "flow_logs_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow.arn}:*"]
  }
}
