output "role_arn" {
  description = "ARN of the agents' role: the ECS task role, or the IRSA role annotated on the service account."
  value       = aws_iam_role.agent.arn
}

output "role_name" {
  description = "Name of the agents' role."
  value       = aws_iam_role.agent.name
}

output "policy_arn" {
  description = "ARN of the agents' policy."
  value       = aws_iam_policy.agent.arn
}

output "policy_json" {
  description = "The agents' policy document, for review."
  value       = data.aws_iam_policy_document.agent.json
}
