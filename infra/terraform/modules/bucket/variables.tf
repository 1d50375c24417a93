variable "name" {
  description = "Name of the S3 bucket that holds Floe's segment files."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "The bucket name must be 3-63 characters of lowercase letters, digits, dots and hyphens."
  }
}

variable "prefix" {
  description = "Key prefix the agents write under (s3://BUCKET/PREFIX); segments land in PREFIX/segments/<2 hex digits>/."
  type        = string
  default     = "floe"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.prefix))
    error_message = "The prefix must be non-empty, without leading or trailing slashes."
  }
}

variable "kms_key_arn" {
  description = "KMS key for server-side encryption (SSE-KMS); null uses S3-managed keys (SSE-S3)."
  type        = string
  default     = null
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads (an agent that died mid-upload) are aborted and their parts deleted."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "Must be at least 1 day."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a bucket that still holds segments (test deployments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
