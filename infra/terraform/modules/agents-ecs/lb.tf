# The network load balancer: clients bootstrap on 9092 and are then sent to
# each agent's own address; 9644 serves /metrics, /healthz and /readyz.
# Targets are healthy while /readyz answers 200: a stopping agent turns 503 as
# it leaves the registry, and the deregistration delay matches its drain.

resource "aws_security_group" "lb" {
  name        = "${var.name}-nlb"
  description = "Floe load balancer: Kafka and HTTP from clients"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "lb" {
  for_each = { for pair in setproduct(var.client_cidr_blocks, [local.kafka_port, local.http_port]) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.lb.id
  description       = "Port ${each.value[1]} from clients"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = each.value[0]
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "lb_to_agents" {
  for_each = toset([tostring(local.kafka_port), tostring(local.http_port)])

  security_group_id            = aws_security_group.lb.id
  description                  = "Port ${each.value} to the agents"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  referenced_security_group_id = aws_security_group.agents.id
  tags                         = var.tags
}

resource "aws_lb" "this" {
  name                             = var.name
  load_balancer_type               = "network"
  internal                         = var.internal
  subnets                          = local.lb_subnet_ids
  security_groups                  = [aws_security_group.lb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.deletion_protection
  tags                             = var.tags
}

resource "aws_lb_target_group" "this" {
  for_each = { kafka = local.kafka_port, http = local.http_port }

  name                 = "${var.name}-${each.key}"
  port                 = each.value
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = ceil(var.shutdown_drain_ms / 1000)
  tags                 = var.tags

  health_check {
    protocol            = "HTTP"
    port                = tostring(local.http_port)
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "this" {
  for_each = aws_lb_target_group.this

  load_balancer_arn = aws_lb.this.arn
  port              = each.value.port
  protocol          = "TCP"
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = each.value.arn
  }
}
