# One task definition and one service per zone: the zone is a plain variable
# of the task (FLOE_ZONE), so every agent knows where it runs.

locals {
  # The sidecar scrapes the agent's /metrics and sends the autoscaling signals
  # to CloudWatch as embedded metric format. Counters become deltas per
  # scrape: floe_produce_bytes_total is then bytes per interval per task.
  adot_config = {
    receivers = {
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "floe"
            scrape_interval = "${var.metrics_interval_seconds}s"
            static_configs  = [{ targets = ["localhost:${local.http_port}"] }]
          }]
        }
      }
    }
    processors = {
      "resource/ecs" = {
        attributes = [
          { key = "ClusterName", value = var.name, action = "upsert" },
          { key = "ServiceName", value = "$${env:SERVICE_NAME}", action = "upsert" },
        ]
      }
      batch = {}
    }
    exporters = {
      awsemf = {
        namespace                        = var.metrics_namespace
        log_group_name                   = aws_cloudwatch_log_group.metrics.name
        dimension_rollup_option          = "NoDimensionRollup"
        resource_to_telemetry_conversion = { enabled = true }
        metric_declarations = [{
          dimensions = [["ClusterName", "ServiceName"], ["ClusterName"]]
          metric_name_selectors = [
            "^floe_produce_bytes_total$",
            "^floe_fetch_bytes_total$",
            "^floe_pending_bytes$",
            "^floe_process_cpu_seconds_total$",
          ]
        }]
      }
    }
    service = {
      pipelines = {
        metrics = {
          receivers  = ["prometheus"]
          processors = ["resource/ecs", "batch"]
          exporters  = ["awsemf"]
        }
      }
    }
  }

  base_environment = merge(var.environment, {
    FLOE_KAFKA_LISTEN      = "0.0.0.0:${local.kafka_port}"
    FLOE_HTTP_LISTEN       = "0.0.0.0:${local.http_port}"
    FLOE_DATA_DIR          = "/var/lib/floe"
    FLOE_OBJECT_STORE      = var.object_store_url
    FLOE_SHUTDOWN_DRAIN_MS = tostring(var.shutdown_drain_ms)
    AWS_REGION             = data.aws_region.current.name
  })
}

resource "aws_ecs_task_definition" "agent" {
  for_each = var.subnet_ids_by_zone

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = var.task_role_arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # Scratch space only: segments live in S3.
  volume {
    name = "data"
  }

  container_definitions = jsonencode([
    {
      name      = "floe"
      image     = var.image
      essential = true
      # The advertised address is the task's own private IP, known only once
      # it runs: the first address `hostname -I` lists (the task's ENI).
      entryPoint = ["/bin/sh", "-c"]
      command    = ["FLOE_ADVERTISED_ADDR=\"$(hostname -I | cut -d' ' -f1):${local.kafka_port}\" && export FLOE_ADVERTISED_ADDR && exec floe serve"]
      environment = [
        for k, v in merge(local.base_environment, { FLOE_ZONE = each.key }) : { name = k, value = v }
      ]
      secrets = [{ name = "FLOE_METADATA", valueFrom = var.metadata_secret_arn }]
      portMappings = [
        { containerPort = local.kafka_port, protocol = "tcp" },
        { containerPort = local.http_port, protocol = "tcp" },
      ]
      mountPoints            = [{ sourceVolume = "data", containerPath = "/var/lib/floe" }]
      readonlyRootFilesystem = true
      user                   = "10001:10001"
      # SIGTERM, then this long for the drain and the final flush.
      stopTimeout = local.stop_timeout_seconds
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.agents.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = each.key
        }
      }
    },
    {
      name      = "metrics"
      image     = var.adot_image
      essential = false
      environment = [
        { name = "AOT_CONFIG_CONTENT", value = yamlencode(local.adot_config) },
        { name = "SERVICE_NAME", value = "${var.name}-${each.key}" },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.agents.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "${each.key}-metrics"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "agent" {
  for_each = var.subnet_ids_by_zone

  name                               = "${var.name}-${each.key}"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.agent[each.key].arn
  desired_count                      = var.tasks_per_zone.desired
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 30
  propagate_tags                     = "SERVICE"
  tags                               = var.tags

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = [each.value]
    security_groups  = [aws_security_group.agents.id]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = aws_lb_target_group.this
    content {
      target_group_arn = load_balancer.value.arn
      container_name   = "floe"
      container_port   = load_balancer.value.port
    }
  }

  # Autoscaling owns the count once the service exists.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.this]
}
