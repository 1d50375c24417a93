variable "region" {
  description = "AWS region of the EKS cluster."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the deployment: the Helm release, the database, the role."
  type        = string
  default     = "floe"
}

variable "bucket_name" {
  description = "Name of the segment bucket (globally unique)."
  type        = string
}

variable "eks_cluster_name" {
  description = "Existing EKS cluster whose nodes span three zones."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (for IRSA)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the EKS cluster."
  type        = string
}

variable "database_subnet_ids" {
  description = "Private subnets for Postgres, in at least two zones."
  type        = list(string)
}

variable "image_repository" {
  description = "Repository of the Floe agent image."
  type        = string
}

variable "image_tag" {
  description = "Tag of the Floe agent image."
  type        = string
}

variable "tags" {
  description = "Tags for every AWS resource."
  type        = map(string)
  default     = { Project = "floe" }
}
