output "bootstrap_address" {
  description = "bootstrap.servers for Kafka clients."
  value       = module.agents.bootstrap_address
}

output "metrics_endpoint" {
  description = "The agents' Prometheus endpoint."
  value       = module.agents.metrics_endpoint
}

output "object_store_url" {
  description = "Where the segments are: s3://BUCKET/PREFIX."
  value       = module.bucket.object_store_url
}

output "metadata_secret_arn" {
  description = "Secret holding the metadata store URL."
  value       = module.metadata.secret_arn
}

output "services" {
  description = "ECS service of each zone."
  value       = module.agents.service_names
}
