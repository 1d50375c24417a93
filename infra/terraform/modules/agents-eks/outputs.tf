output "bootstrap_address" {
  description = "Kafka bootstrap address inside the cluster: the chart's Service and port 9092."
  value       = "${local.fullname}.${helm_release.floe.namespace}.svc:9092"
}

output "metrics_endpoint" {
  description = "Prometheus endpoint of the agents through the Service (one agent per request); scrape every pod with the chart's ServiceMonitor."
  value       = "http://${helm_release.floe.name}.${var.namespace}.svc:9644/metrics"
}

output "namespace" {
  description = "Namespace of the release."
  value       = var.namespace
}

output "service_account" {
  description = "The agents' service account, as the IRSA subject system:serviceaccount:NAMESPACE:NAME."
  value       = "system:serviceaccount:${var.namespace}:${var.name}"
}
