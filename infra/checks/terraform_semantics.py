"""What the Terraform modules promise, read from their parsed source (no
provider needed): least privilege in `iam`, a private unversioned bucket that
aborts multipart uploads, a durable sequencer in `metadata`, and in
`agents-ecs` the zone per service, health on /readyz, a stop timeout and a
deregistration delay matching the drain, and both autoscaling signals, with
the sidecar forwarding metrics the agent really exports."""

from __future__ import annotations

import re

import hcl2

import floe_settings
import tf_modules
from tf_modules import one


def parse(module: str, file: str) -> dict:
    return hcl2.loads((tf_modules.TERRAFORM / "modules" / module / file).read_text())


def resource(parsed: dict, kind: str, name: str) -> dict:
    for block in parsed.get("resource", []):
        if kind in block and name in block[kind]:
            return block[kind][name]
    raise AssertionError(f"no resource {kind}.{name}")


def data(parsed: dict, kind: str, name: str) -> dict:
    for block in parsed.get("data", []):
        if kind in block and name in block[kind]:
            return block[kind][name]
    raise AssertionError(f"no data {kind}.{name}")


def check_iam() -> None:
    policy = data(parse("iam", "main.tf"), "aws_iam_policy_document", "agent")
    actions = {}
    for statement in policy["statement"]:
        actions[one(statement["sid"])] = (one(statement["actions"]), one(statement["resources"]))
    assert actions == {
        "SegmentObjects": (["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], ["${var.bucket_arn}/${var.prefix}/*"]),
        "ListSegmentPrefix": (["s3:ListBucket"], ["${var.bucket_arn}"]),
        "MetadataSecret": (["secretsmanager:GetSecretValue"], ["${var.metadata_secret_arn}"]),
    }, actions
    listing = next(s for s in policy["statement"] if one(s["sid"]) == "ListSegmentPrefix")
    condition = one(listing["condition"])
    assert one(condition["variable"]) == "s3:prefix" and one(condition["values"]) == ["${var.prefix}/*"]


def check_bucket() -> None:
    parsed = parse("bucket", "main.tf")
    block = resource(parsed, "aws_s3_bucket_public_access_block", "this")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert one(block[flag]) is True, flag
    versioning = resource(parsed, "aws_s3_bucket_versioning", "this")
    assert one(one(versioning["versioning_configuration"])["status"]) == "Disabled"
    lifecycle = resource(parsed, "aws_s3_bucket_lifecycle_configuration", "this")
    rule = one(lifecycle["rule"])
    assert "abort_incomplete_multipart_upload" in rule and one(rule["status"]) == "Enabled"
    assert "${var.prefix}/segments/" in (tf_modules.TERRAFORM / "modules/bucket/outputs.tf").read_text()


def check_metadata() -> None:
    parsed = parse("metadata", "main.tf")
    group = resource(parsed, "aws_db_parameter_group", "this")
    parameters = {one(p["name"]): one(p["value"]) for p in group["parameter"]}
    assert parameters["synchronous_commit"] == "on", parameters
    assert parameters["max_connections"] == "${tostring(local.max_connections)}"
    rule = resource(parsed, "aws_vpc_security_group_ingress_rule", "agents")
    assert one(rule["referenced_security_group_id"]) == "${each.value}" and one(rule["from_port"]) == 5432
    instance = resource(parsed, "aws_db_instance", "this")
    assert one(instance["publicly_accessible"]) is False and one(instance["storage_encrypted"]) is True


def check_agents_ecs() -> None:
    source = "\n".join(
        (tf_modules.TERRAFORM / "modules/agents-ecs" / f).read_text()
        for f in ("main.tf", "lb.tf", "tasks.tf", "autoscaling.tf")
    )
    tasks = parse("agents-ecs", "tasks.tf")
    service = resource(tasks, "aws_ecs_service", "agent")
    assert one(service["for_each"]) == "${var.subnet_ids_by_zone}"
    assert "FLOE_ZONE = each.key" in source, "each zone's tasks are told their zone"
    assert "stopTimeout = local.stop_timeout_seconds" in source
    assert "stop_timeout_seconds = ceil(var.shutdown_drain_ms / 1000) + var.flush_seconds" in source
    assert "FLOE_SHUTDOWN_DRAIN_MS = tostring(var.shutdown_drain_ms)" in source
    lb = parse("agents-ecs", "lb.tf")
    group = resource(lb, "aws_lb_target_group", "this")
    assert one(group["deregistration_delay"]) == "${ceil(var.shutdown_drain_ms / 1000)}"
    health = one(group["health_check"])
    assert one(health["path"]) == "/readyz" and one(health["matcher"]) == "200"
    scaling = parse("agents-ecs", "autoscaling.tf")
    cpu = one(resource(scaling, "aws_appautoscaling_policy", "cpu")["target_tracking_scaling_policy_configuration"])
    assert one(one(cpu["predefined_metric_specification"])["predefined_metric_type"]) == "ECSServiceAverageCPUUtilization"
    produce = one(
        resource(scaling, "aws_appautoscaling_policy", "produce_bytes")["target_tracking_scaling_policy_configuration"]
    )
    metric = one(produce["customized_metric_specification"])
    assert one(metric["metric_name"]) == "floe_produce_bytes_total"
    metrics = floe_settings.metric_names()
    forwarded = re.findall(r'"\^(floe_[a-z0-9_]+)\$"', source)
    assert "floe_produce_bytes_total" in forwarded, forwarded
    unknown = [m for m in forwarded if m not in metrics]
    assert not unknown, f"the sidecar forwards metrics the agent does not export: {unknown}"


def main() -> list[str]:
    problems = []
    for check in (check_iam, check_bucket, check_metadata, check_agents_ecs):
        try:
            check()
        except (AssertionError, KeyError, StopIteration) as error:
            problems.append(f"{check.__name__}: {type(error).__name__} {error}")
    return problems
