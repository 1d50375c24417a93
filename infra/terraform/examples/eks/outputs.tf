output "bootstrap_address" {
  description = "bootstrap.servers for Kafka clients inside the cluster."
  value       = module.agents.bootstrap_address
}

output "metrics_endpoint" {
  description = "The agents' Prometheus endpoint inside the cluster."
  value       = module.agents.metrics_endpoint
}

output "irsa_role_arn" {
  description = "The agents' IRSA role."
  value       = module.iam.role_arn
}
