variable "name" {
  description = "Helm release name; the agents' Deployment, Service and ServiceAccount are named after it."
  type        = string
  default     = "floe"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,52}$", var.name))
    error_message = "A DNS label of at most 53 characters."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the release."
  type        = string
  default     = "floe"
}

variable "create_namespace" {
  description = "Create the namespace."
  type        = bool
  default     = true
}

variable "chart_path" {
  description = "Path to the Floe chart; null uses the chart of this repository (infra/helm/floe)."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "Repository of the Floe agent image."
  type        = string
}

variable "image_tag" {
  description = "Tag of the Floe agent image."
  type        = string
}

variable "object_store_url" {
  description = "FLOE_OBJECT_STORE: s3://BUCKET/PREFIX (the bucket module's object_store_url)."
  type        = string

  validation {
    condition     = startswith(var.object_store_url, "s3://")
    error_message = "Must be an s3:// URL."
  }
}

variable "metadata_secret_arn" {
  description = "Secrets Manager secret holding the postgres:// URL (the metadata module's secret_arn); copied into a Kubernetes Secret the chart reads."
  type        = string
}

variable "role_arn" {
  description = "IRSA role of the agents (the iam module's role_arn, created with oidc_provider_arn and the subject system:serviceaccount:NAMESPACE:NAME)."
  type        = string
}

variable "replicas" {
  description = "Autoscaling bounds of the agents."
  type = object({
    min = number
    max = number
  })
  default = { min = 3, max = 12 }

  validation {
    condition     = var.replicas.min >= 1 && var.replicas.min <= var.replicas.max
    error_message = "Need 1 <= min <= max."
  }
}

variable "service_type" {
  description = "Type of the bootstrap Service: ClusterIP for clients inside the cluster, LoadBalancer (an NLB) for clients in the VPC."
  type        = string
  default     = "ClusterIP"

  validation {
    condition     = contains(["ClusterIP", "LoadBalancer"], var.service_type)
    error_message = "ClusterIP or LoadBalancer."
  }
}

variable "values" {
  description = "More chart values, merged over the module's (see infra/helm/floe/values.yaml)."
  type        = any
  default     = {}
}
