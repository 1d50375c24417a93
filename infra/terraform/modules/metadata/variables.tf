variable "name" {
  description = "Name of the database instance and its companions (subnet group, parameter group, security group, secret)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}$", var.name))
    error_message = "The name must start with a letter and hold at most 51 lowercase letters, digits and hyphens."
  }
}

variable "vpc_id" {
  description = "VPC of the database and the agents."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the database, in at least two zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups of the agents: the only sources allowed to reach Postgres."
  type        = list(string)

  validation {
    condition     = length(var.allowed_security_group_ids) > 0
    error_message = "Name the agents' security group(s); nothing else may connect."
  }
}

variable "engine_version" {
  description = "Postgres major version (the parameter group family follows it)."
  type        = string
  default     = "16"

  validation {
    condition     = contains(["14", "15", "16", "17"], var.engine_version)
    error_message = "Supported Postgres major versions: 14 to 17."
  }
}

variable "instance_class" {
  description = "Instance class. The sequencer does a few thousand small commits per second at most: a db.m7g.large carries a large cluster; db.t4g.medium suits a small one."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB (gp3). The batch index grows with segments, not with bytes: tens of GiB last a long time."
  type        = number
  default     = 50

  validation {
    condition     = var.allocated_storage_gb >= 20
    error_message = "gp3 on RDS needs at least 20 GiB."
  }
}

variable "max_allocated_storage_gb" {
  description = "Upper bound of storage autoscaling in GiB."
  type        = number
  default     = 500

  validation {
    condition     = var.max_allocated_storage_gb >= var.allocated_storage_gb
    error_message = "Must be at least allocated_storage_gb."
  }
}

variable "max_agents" {
  description = "Most agents that will ever run at once (the autoscaling maximum): sizes max_connections at 12 per agent (8 query, 2 commit, 1 notification, 1 spare) plus 20."
  type        = number
  default     = 12

  validation {
    condition     = var.max_agents >= 1 && var.max_agents <= 400
    error_message = "Between 1 and 400 agents."
  }
}

variable "multi_az" {
  description = "Keep a synchronous standby in another zone (the metadata store is the cluster's sequencer: recommended)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "Between 1 and 35 days."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (turn off before destroying a test deployment)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the secret; null uses AWS-managed keys."
  type        = string
  default     = null
}

variable "monitoring_interval_seconds" {
  description = "Interval of RDS enhanced monitoring (OS metrics); 0 turns it off."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval_seconds)
    error_message = "One of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
