# The execution role (pull the image, write logs, read the metadata secret
# into FLOE_METADATA) and, on the agents' role, the right to write the
# sidecar's metrics to their log group. Bucket and secret access of the
# agents themselves come from the iam module.

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secret" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.metadata_secret_arn]
  }
}

resource "aws_iam_role_policy" "execution_secret" {
  name   = "metadata-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secret.json
}

data "aws_iam_policy_document" "metrics" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.metrics.arn}:*"]
  }
}

resource "aws_iam_role_policy" "metrics" {
  name   = "${var.name}-metrics"
  role   = local.task_role_name
  policy = data.aws_iam_policy_document.metrics.json
}
