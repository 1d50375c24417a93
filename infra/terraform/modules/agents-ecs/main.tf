# Floe agents on Fargate: one ECS service per availability zone (each task is
# told its zone), behind a network load balancer, scaled on CPU and on produce
# bytes per second.

data "aws_region" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  kafka_port = 9092
  http_port  = 9644
  # SIGTERM: the agent leaves the registry, serves for the drain, then flushes.
  stop_timeout_seconds = ceil(var.shutdown_drain_ms / 1000) + var.flush_seconds
  lb_subnet_ids        = length(var.load_balancer_subnet_ids) > 0 ? var.load_balancer_subnet_ids : values(var.subnet_ids_by_zone)
  task_role_name       = element(split("/", var.task_role_arn), length(split("/", var.task_role_arn)) - 1)
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "agents" {
  name              = "/ecs/${var.name}/agents"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# Where the ADOT sidecar writes the agents' metrics as embedded metric format;
# CloudWatch turns them into metrics of var.metrics_namespace.
resource "aws_cloudwatch_log_group" "metrics" {
  name              = "/ecs/${var.name}/metrics"
  retention_in_days = 1
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_security_group" "agents" {
  name        = "${var.name}-agents"
  description = "Floe agents: Kafka from clients and the load balancer, HTTP from the load balancer"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "kafka_from_clients" {
  for_each = toset(var.client_cidr_blocks)

  security_group_id = aws_security_group.agents.id
  description       = "Kafka from clients"
  ip_protocol       = "tcp"
  from_port         = local.kafka_port
  to_port           = local.kafka_port
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "from_lb" {
  for_each = toset([tostring(local.kafka_port), tostring(local.http_port)])

  security_group_id            = aws_security_group.agents.id
  description                  = "Port ${each.value} from the load balancer (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  referenced_security_group_id = aws_security_group.lb.id
  tags                         = var.tags
}

# S3, Postgres, Secrets Manager, ECR and CloudWatch over HTTPS or 5432.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.agents.id
  description       = "HTTPS to AWS APIs (S3, Secrets Manager, ECR, CloudWatch)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.agents.id
  description       = "Postgres (the metadata store) inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = data.aws_vpc.this.cidr_block
  tags              = var.tags
}
