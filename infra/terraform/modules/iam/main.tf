# The agents' role: their bucket prefix (Get/Put/Delete, List within it) and
# their Postgres secret, nothing more.

locals {
  oidc_issuer = var.oidc_provider_arn == null ? null : replace(var.oidc_provider_arn, "/^arn:[^:]+:iam::[0-9]+:oidc-provider\\//", "")
}

data "aws_iam_policy_document" "trust" {
  dynamic "statement" {
    for_each = length(var.trusted_services) > 0 ? [1] : []
    content {
      actions = ["sts:AssumeRole"]
      principals {
        type        = "Service"
        identifiers = var.trusted_services
      }
    }
  }

  dynamic "statement" {
    for_each = var.oidc_provider_arn == null ? [] : [1]
    content {
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [var.oidc_provider_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_issuer}:sub"
        values   = var.oidc_subjects
      }
    }
  }
}

data "aws_iam_policy_document" "agent" {
  statement {
    sid       = "SegmentObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.bucket_arn}/${var.prefix}/*"]
  }

  statement {
    sid       = "ListSegmentPrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.prefix}/*"]
    }
  }

  statement {
    sid       = "MetadataSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.metadata_secret_arn]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "EncryptionKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

resource "aws_iam_role" "agent" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = length(var.trusted_services) > 0 || var.oidc_provider_arn != null
      error_message = "Trust at least one service or an OIDC provider."
    }
    precondition {
      condition     = var.oidc_provider_arn == null || length(var.oidc_subjects) > 0
      error_message = "With an OIDC provider, name the service accounts in oidc_subjects."
    }
  }
}

resource "aws_iam_policy" "agent" {
  name   = var.name
  policy = data.aws_iam_policy_document.agent.json
  tags   = var.tags
}

resource "aws_iam_role_policy_attachment" "agent" {
  role       = aws_iam_role.agent.name
  policy_arn = aws_iam_policy.agent.arn
}
