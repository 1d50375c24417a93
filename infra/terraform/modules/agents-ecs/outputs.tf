output "bootstrap_address" {
  description = "Kafka bootstrap address for clients (bootstrap.servers): the load balancer's DNS name and port 9092."
  value       = "${aws_lb.this.dns_name}:${local.kafka_port}"
}

output "metrics_endpoint" {
  description = "Prometheus endpoint of the agents through the load balancer (one agent per request)."
  value       = "http://${aws_lb.this.dns_name}:${local.http_port}/metrics"
}

output "load_balancer_arn" {
  description = "ARN of the network load balancer."
  value       = aws_lb.this.arn
}

output "security_group_id" {
  description = "Security group of the agents: allow it into Postgres (the metadata module's allowed_security_group_ids)."
  value       = aws_security_group.agents.id
}

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS service of each zone, as { zone = service name }."
  value       = { for zone, service in aws_ecs_service.agent : zone => service.name }
}

output "stop_timeout_seconds" {
  description = "Seconds ECS waits after SIGTERM: the drain plus the final flush."
  value       = local.stop_timeout_seconds
}
