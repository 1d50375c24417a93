# Floe agents on EKS: the chart of infra/helm/floe installed with the Helm
# provider, the service account bound to an IRSA role for the bucket, and the
# metadata URL copied from Secrets Manager into a Kubernetes Secret (it is
# then in the Terraform state too: keep the state encrypted).

data "aws_region" "current" {}

data "aws_secretsmanager_secret_version" "metadata" {
  secret_id = var.metadata_secret_arn
}

locals {
  chart_path = coalesce(var.chart_path, "${path.module}/../../../helm/floe")
  # The chart names its resources like this (floe.fullname).
  fullname = strcontains(var.name, "floe") ? var.name : "${var.name}-floe"
  values = {
    image = {
      repository = var.image_repository
      tag        = var.image_tag
    }
    objectStore = {
      url    = var.object_store_url
      region = data.aws_region.current.name
    }
    metadata = {
      existingSecret    = kubernetes_secret_v1.metadata.metadata[0].name
      existingSecretKey = "url"
    }
    serviceAccount = {
      create      = true
      name        = var.name
      annotations = { "eks.amazonaws.com/role-arn" = var.role_arn }
    }
    service = {
      type = var.service_type
      annotations = var.service_type == "LoadBalancer" ? {
        "service.beta.kubernetes.io/aws-load-balancer-type"            = "external"
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type" = "ip"
        "service.beta.kubernetes.io/aws-load-balancer-scheme"          = "internal"
      } : {}
    }
    autoscaling = {
      enabled     = true
      minReplicas = var.replicas.min
      maxReplicas = var.replicas.max
    }
  }
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0
  metadata {
    name = var.namespace
  }
}

resource "kubernetes_secret_v1" "metadata" {
  metadata {
    name      = "${var.name}-metadata"
    namespace = var.namespace
  }
  data = {
    url = data.aws_secretsmanager_secret_version.metadata.secret_string
  }

  depends_on = [kubernetes_namespace_v1.this]
}

resource "helm_release" "floe" {
  name      = var.name
  namespace = var.namespace
  chart     = local.chart_path
  values    = [yamlencode(local.values), yamlencode(var.values)]
  wait      = true
  timeout   = 600

  depends_on = [kubernetes_namespace_v1.this]
}
