variable "name" {
  description = "Name of the ECS cluster, its services (NAME-ZONE), the load balancer and the security groups."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "The name must start with a letter and hold at most 21 lowercase letters, digits and hyphens (load balancer names are short)."
  }
}

variable "vpc_id" {
  description = "VPC of the agents."
  type        = string
}

variable "subnet_ids_by_zone" {
  description = "One private subnet per availability zone, as { zone name = subnet id }: one ECS service per zone, whose tasks are told that zone (--zone)."
  type        = map(string)

  validation {
    condition     = length(var.subnet_ids_by_zone) >= 2
    error_message = "Spread the agents over at least two zones."
  }
}

variable "load_balancer_subnet_ids" {
  description = "Subnets of the network load balancer; empty: the agents' subnets."
  type        = list(string)
  default     = []
}

variable "internal" {
  description = "Whether the load balancer is internal. Clients must reach the tasks' private addresses after bootstrapping in any case."
  type        = bool
  default     = true
}

variable "client_cidr_blocks" {
  description = "Networks of the Kafka clients (Kafka port 9092 on the tasks and the load balancer)."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.client_cidr_blocks : can(cidrhost(c, 0))]) && !contains(var.client_cidr_blocks, "0.0.0.0/0")
    error_message = "Give CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "image" {
  description = "The Floe agent image (built from infra/docker/Dockerfile)."
  type        = string
}

variable "cpu" {
  description = "Task CPU units (1024 = one vCPU)."
  type        = number
  default     = 2048

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "One of Fargate's CPU sizes."
  }
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 4096

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880
    error_message = "Between 512 and 122880 MiB (Fargate also requires a size that fits the CPU)."
  }
}

variable "tasks_per_zone" {
  description = "Tasks per zone at least, at the start and at most: autoscaling moves between min and max."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = { min = 1, desired = 1, max = 4 }

  validation {
    condition     = var.tasks_per_zone.min >= 1 && var.tasks_per_zone.min <= var.tasks_per_zone.desired && var.tasks_per_zone.desired <= var.tasks_per_zone.max
    error_message = "Need 1 <= min <= desired <= max."
  }
}

variable "task_role_arn" {
  description = "The agents' role (the iam module's role_arn): bucket prefix and metadata secret."
  type        = string
}

variable "metadata_secret_arn" {
  description = "Secret holding the postgres:// URL (the metadata module's secret_arn), injected as FLOE_METADATA."
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

variable "environment" {
  description = "More agent settings as FLOE_* variables, e.g. { FLOE_DEFAULT_PARTITIONS = \"4\" }."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : startswith(k, "FLOE_")])
    error_message = "Only FLOE_* variables."
  }
}

variable "shutdown_drain_ms" {
  description = "FLOE_SHUTDOWN_DRAIN_MS: how long a stopping agent keeps serving after it left the registry. Also the load balancer's deregistration delay."
  type        = number
  default     = 10000

  validation {
    condition     = var.shutdown_drain_ms >= 0 && var.shutdown_drain_ms <= 90000
    error_message = "Between 0 and 90000 ms (Fargate's stop timeout is at most 120 s, and the flush needs time after the drain)."
  }
}

variable "flush_seconds" {
  description = "Time after the drain for the agent to flush and answer what is pending before ECS kills it."
  type        = number
  default     = 20

  validation {
    condition     = var.flush_seconds >= 5 && var.flush_seconds <= 60
    error_message = "Between 5 and 60 seconds."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU utilization autoscaling holds each zone's service at."
  type        = number
  default     = 70

  validation {
    condition     = var.cpu_target_percent > 10 && var.cpu_target_percent < 95
    error_message = "Between 10 and 95."
  }
}

variable "produce_bytes_per_second_target" {
  description = "Produce bytes per second per task autoscaling holds each zone's service at (from floe_produce_bytes_total, sent to CloudWatch by the ADOT sidecar)."
  type        = number
  default     = 52428800

  validation {
    condition     = var.produce_bytes_per_second_target >= 1048576
    error_message = "At least 1 MiB/s."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the agents' metrics."
  type        = string
  default     = "Floe"
}

variable "metrics_interval_seconds" {
  description = "How often the ADOT sidecar scrapes /metrics and sends to CloudWatch."
  type        = number
  default     = 60

  validation {
    condition     = contains([10, 30, 60], var.metrics_interval_seconds)
    error_message = "10, 30 or 60 seconds."
  }
}

variable "adot_image" {
  description = "AWS Distro for OpenTelemetry collector image (the metrics sidecar)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "log_retention_days" {
  description = "Days the agents' logs are kept in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "One of the retention periods CloudWatch Logs accepts."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the log groups; null uses CloudWatch's own encryption."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (turn off before destroying a test deployment)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
