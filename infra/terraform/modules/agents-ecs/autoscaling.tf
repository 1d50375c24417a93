# Each zone's service scales between tasks_per_zone.min and .max on two target
# tracking policies; the larger wish wins.
#
# Produce bytes per second reaches CloudWatch through the ADOT sidecar (see
# tasks.tf): every metrics_interval_seconds each task sends the bytes it
# accepted in that interval as floe_produce_bytes_total, with dimensions
# ClusterName and ServiceName. The Average over tasks per interval, divided by
# the interval, is bytes per second per task: the target is expressed in the
# same unit by multiplying instead.

resource "aws_appautoscaling_target" "agent" {
  for_each = aws_ecs_service.agent

  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${each.value.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.tasks_per_zone.min
  max_capacity       = var.tasks_per_zone.max
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each = aws_appautoscaling_target.agent

  name               = "${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = each.value.service_namespace
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "produce_bytes" {
  for_each = aws_appautoscaling_target.agent

  name               = "${each.key}-produce-bytes"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = each.value.service_namespace
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.produce_bytes_per_second_target * var.metrics_interval_seconds
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    customized_metric_specification {
      namespace   = var.metrics_namespace
      metric_name = "floe_produce_bytes_total"
      statistic   = "Average"
      unit        = "None"
      dimensions {
        name  = "ClusterName"
        value = aws_ecs_cluster.this.name
      }
      dimensions {
        name  = "ServiceName"
        value = aws_ecs_service.agent[each.key].name
      }
    }
  }
}
