# A three-zone Floe deployment on Fargate: a bucket, a Multi-AZ Postgres, the
# agents' role, and one agent service per zone behind a network load balancer.

module "bucket" {
  source = "../../modules/bucket"

  name   = var.bucket_name
  prefix = var.name
  tags   = var.tags
}

module "metadata" {
  source = "../../modules/metadata"

  name                       = var.name
  vpc_id                     = var.vpc_id
  subnet_ids                 = values(var.subnet_ids_by_zone)
  allowed_security_group_ids = [module.agents.security_group_id]
  max_agents                 = 3 * 4
  tags                       = var.tags
}

module "iam" {
  source = "../../modules/iam"

  name                = "${var.name}-agents"
  bucket_arn          = module.bucket.bucket_arn
  prefix              = module.bucket.prefix
  metadata_secret_arn = module.metadata.secret_arn
  tags                = var.tags
}

module "agents" {
  source = "../../modules/agents-ecs"

  name                = var.name
  vpc_id              = var.vpc_id
  subnet_ids_by_zone  = var.subnet_ids_by_zone
  client_cidr_blocks  = var.client_cidr_blocks
  image               = var.image
  task_role_arn       = module.iam.role_arn
  metadata_secret_arn = module.metadata.secret_arn
  object_store_url    = module.bucket.object_store_url
  tasks_per_zone      = { min = 1, desired = 1, max = 4 }
  environment = {
    FLOE_DEFAULT_PARTITIONS = "12"
  }
  tags = var.tags
}
