variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the deployment, used for every resource."
  type        = string
  default     = "floe"
}

variable "bucket_name" {
  description = "Name of the segment bucket (globally unique)."
  type        = string
}

variable "vpc_id" {
  description = "VPC to deploy into. It needs an S3 gateway endpoint (segment traffic stays off the NAT) and a way to Secrets Manager, ECR and CloudWatch (NAT or interface endpoints)."
  type        = string
}

variable "subnet_ids_by_zone" {
  description = "One private subnet in each of three zones, as { zone = subnet id }."
  type        = map(string)

  validation {
    condition     = length(var.subnet_ids_by_zone) == 3
    error_message = "This example deploys over exactly three zones."
  }
}

variable "client_cidr_blocks" {
  description = "Networks of the Kafka clients."
  type        = list(string)
}

variable "image" {
  description = "The Floe agent image, built from infra/docker/Dockerfile and pushed to ECR."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = { Project = "floe" }
}
