variable "name" {
  description = "Name of the agents' IAM role and policy."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,58}$", var.name))
    error_message = "The name must be 1-58 characters valid in an IAM role name."
  }
}

variable "bucket_arn" {
  description = "ARN of the segment bucket (the bucket module's bucket_arn)."
  type        = string

  validation {
    condition     = startswith(var.bucket_arn, "arn:")
    error_message = "Must be an ARN."
  }
}

variable "prefix" {
  description = "Key prefix the agents write under: the only keys they may read, write, delete and list."
  type        = string

  validation {
    condition     = length(var.prefix) > 0 && !startswith(var.prefix, "/") && !endswith(var.prefix, "/")
    error_message = "The prefix must be non-empty, without leading or trailing slashes."
  }
}

variable "metadata_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the agents' postgres:// URL (the metadata module's secret_arn)."
  type        = string

  validation {
    condition     = startswith(var.metadata_secret_arn, "arn:")
    error_message = "Must be an ARN."
  }
}

variable "kms_key_arns" {
  description = "KMS keys of the bucket and the secret, if customer-managed: the role may use them for S3 objects and the secret only."
  type        = list(string)
  default     = []
}

variable "trusted_services" {
  description = "AWS services that may assume the role (ECS tasks by default). Empty when only oidc_provider_arn is trusted."
  type        = list(string)
  default     = ["ecs-tasks.amazonaws.com"]
}

variable "oidc_provider_arn" {
  description = "For EKS (IRSA): ARN of the cluster's IAM OIDC provider; null for none."
  type        = string
  default     = null
}

variable "oidc_subjects" {
  description = "For EKS (IRSA): service accounts that may assume the role, as system:serviceaccount:NAMESPACE:NAME."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.oidc_subjects : startswith(s, "system:serviceaccount:")])
    error_message = "Each subject must look like system:serviceaccount:NAMESPACE:NAME."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
