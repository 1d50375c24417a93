# Floe on an existing EKS cluster: a bucket, Postgres reachable from the
# cluster's nodes and pods, an IRSA role for the agents' service account, and
# the chart installed by the agents-eks module.

data "aws_eks_cluster" "security" {
  name = var.eks_cluster_name
}

locals {
  namespace       = "floe"
  service_account = "system:serviceaccount:${local.namespace}:${var.name}"
}

module "bucket" {
  source = "../../modules/bucket"

  name   = var.bucket_name
  prefix = var.name
  tags   = var.tags
}

module "metadata" {
  source = "../../modules/metadata"

  name       = var.name
  vpc_id     = var.vpc_id
  subnet_ids = var.database_subnet_ids
  # Pods use the cluster security group unless security groups for pods are set up.
  allowed_security_group_ids = [data.aws_eks_cluster.security.vpc_config[0].cluster_security_group_id]
  tags                       = var.tags
}

module "iam" {
  source = "../../modules/iam"

  name                = "${var.name}-agents"
  bucket_arn          = module.bucket.bucket_arn
  prefix              = module.bucket.prefix
  metadata_secret_arn = module.metadata.secret_arn
  trusted_services    = []
  oidc_provider_arn   = var.oidc_provider_arn
  oidc_subjects       = [local.service_account]
  tags                = var.tags
}

module "agents" {
  source = "../../modules/agents-eks"

  name                = var.name
  namespace           = local.namespace
  image_repository    = var.image_repository
  image_tag           = var.image_tag
  object_store_url    = module.bucket.object_store_url
  metadata_secret_arn = module.metadata.secret_arn
  role_arn            = module.iam.role_arn
  replicas            = { min = 3, max = 12 }
  values = {
    serviceMonitor = { enabled = true }
  }
}
