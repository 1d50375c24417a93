output "secret_arn" {
  description = "ARN of the secret holding the agents' postgres:// URL (inject it as FLOE_METADATA)."
  value       = aws_secretsmanager_secret.url.arn
}

output "endpoint" {
  description = "Host and port of the database."
  value       = "${aws_db_instance.this.address}:${aws_db_instance.this.port}"
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.this.id
}

output "max_connections" {
  description = "The max_connections the parameter group sets."
  value       = local.max_connections
}
