"""Checks the Helm chart infra/helm/floe with the helm CLI (FLOE_HELM, else
~/.cache/floe-tools/helm): `helm lint --strict`, then `helm template` with
several sets of values, asserting what the manifests say (topology spread, the
zone from the node label, readiness on /readyz, preStop and the grace period
matching the agent's drain, HPA, PDB, ServiceMonitor, secrets from existing
Secrets, every FLOE_* variable and config key a real setting), and validating
every built-in kind against the Kubernetes schemas (kubernetes-validate)."""

from __future__ import annotations

import math
import os
import pathlib
import subprocess
import sys

import kubernetes_validate
import yaml

import floe_settings

CHART = pathlib.Path(__file__).resolve().parents[1] / "helm" / "floe"
KUBE_VERSION = "1.33.0"
REQUIRED = ["objectStore.url=s3://bucket/floe", "metadata.existingSecret=floe-pg"]
SCHEMALESS_KINDS = {"ServiceMonitor"}


def helm() -> str:
    path = os.environ.get("FLOE_HELM") or str(pathlib.Path.home() / ".cache/floe-tools/helm")
    if not pathlib.Path(path).is_file():
        raise SystemExit(f"no helm CLI at {path}: run scripts/test.sh (it builds helm from its Go module)")
    return path


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([helm(), *args], capture_output=True, text=True, check=False)


def render(*sets: str) -> dict[str, dict]:
    flags = [f"--set={s}" for s in [*REQUIRED, *sets]]
    result = run(["template", "r", str(CHART), "--namespace", "stream", "--kube-version", KUBE_VERSION, *flags])
    if result.returncode != 0:
        raise AssertionError(f"helm template {sets} failed:\n{result.stderr}")
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    return {d["kind"]: d for d in docs} | {"_all": docs}


def container(deployment: dict, name: str = "floe") -> dict:
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def env_of(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c.get("env", [])}


def check_default() -> None:
    m = render("serviceMonitor.enabled=true")
    dep = m["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    floe = container(dep)
    env = env_of(floe)

    zone_spread = [t for t in pod["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone_spread and zone_spread[0]["maxSkew"] == 1 and zone_spread[0]["whenUnsatisfiable"] == "DoNotSchedule", pod[
        "topologySpreadConstraints"
    ]
    assert zone_spread[0]["labelSelector"]["matchLabels"] == labels

    # The zone: an init step reads the node's label into a file the agent reads.
    init = pod["initContainers"][0]
    assert env_of(init)["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    script = init["command"][-1]
    assert "topology\\.kubernetes\\.io/zone" in script and "/etc/floe/zone/zone" in script, script
    assert 'FLOE_ZONE="$(cat /etc/floe/zone/zone)"' in floe["command"][-1] and "exec floe serve" in floe["command"][-1]
    role = m["ClusterRole"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}], role["rules"]
    assert m["ClusterRoleBinding"]["subjects"][0]["name"] == pod["serviceAccountName"]

    assert floe["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert floe["livenessProbe"]["httpGet"]["path"] == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in floe["ports"]}
    assert ports == {"kafka": 9092, "http": 9644}, ports

    # Stopping: preStop sleep, then SIGTERM: leave, drain, flush; all inside the grace period.
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    shutdown = values["shutdown"]
    assert floe["lifecycle"]["preStop"] == {"sleep": {"seconds": shutdown["preStopSleepSeconds"]}}
    assert env["FLOE_SHUTDOWN_DRAIN_MS"]["value"] == str(shutdown["drainMs"])
    grace = shutdown["preStopSleepSeconds"] + math.ceil(shutdown["drainMs"] / 1000) + shutdown["flushSeconds"]
    assert pod["terminationGracePeriodSeconds"] == grace, (pod["terminationGracePeriodSeconds"], grace)

    # Secrets come from existing Secrets only.
    assert env["FLOE_METADATA"]["valueFrom"]["secretKeyRef"] == {"name": "floe-pg", "key": "url"}
    assert "envFrom" not in floe
    names = [e["name"] for e in floe["env"]]
    assert names.index("POD_IP") < names.index("FLOE_ADVERTISED_ADDR")
    assert env["FLOE_ADVERTISED_ADDR"]["value"] == "$(POD_IP):9092"
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    real = floe_settings.env_variables()
    unknown = [n for n in names if n.startswith("FLOE_") and n not in real]
    assert not unknown, f"not settings of floe serve: {unknown}"

    # Config from values: a TOML file of real keys, whole numbers as integers.
    toml = m["ConfigMap"]["data"]["floe.toml"]
    keys = {line.split(" = ")[0].strip() for line in toml.splitlines() if " = " in line}
    assert keys and keys <= floe_settings.config_keys(), keys - floe_settings.config_keys()
    assert "default_partitions = 4\n" in toml + "\n", toml
    assert env["FLOE_CONFIG"]["value"].endswith("/floe.toml")

    hpa = m["HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    kinds = {metric["type"] for metric in hpa["spec"]["metrics"]}
    assert kinds == {"Resource", "Pods"}, kinds
    pods_metric = next(x for x in hpa["spec"]["metrics"] if x["type"] == "Pods")["pods"]
    assert pods_metric["metric"]["name"] == "floe_produce_bytes_per_second"
    assert "replicas" not in dep["spec"], "the HPA owns the replica count"

    pdb = m["PodDisruptionBudget"]
    assert pdb["spec"]["maxUnavailable"] == 1 and pdb["spec"]["selector"]["matchLabels"] == labels

    service = m["Service"]
    assert service["spec"]["selector"] == labels
    sm = m["ServiceMonitor"]
    assert sm["spec"]["endpoints"][0]["port"] == "http" and sm["spec"]["endpoints"][0]["path"] == "/metrics"
    assert all(service["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items())
    validate(m["_all"])


def check_variants() -> None:
    m = render("zone.source=podLabel", "objectStore.existingSecret=aws-keys", "autoscaling.enabled=false")
    dep = m["Deployment"]
    floe = container(dep)
    assert "initContainers" not in dep["spec"]["template"]["spec"]
    assert "ClusterRole" not in m and "HorizontalPodAutoscaler" not in m
    zone = env_of(floe)["FLOE_ZONE"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert zone == "metadata.labels['topology.kubernetes.io/zone']", zone
    assert floe["args"] == ["serve"] and "command" not in floe
    assert floe["envFrom"] == [{"secretRef": {"name": "aws-keys"}}]
    assert dep["spec"]["replicas"] == 3
    validate(m["_all"])

    m = render("zone.source=none", "podDisruptionBudget.enabled=false")
    floe = container(m["Deployment"])
    assert "FLOE_ZONE" not in env_of(floe) and "PodDisruptionBudget" not in m and "ServiceMonitor" not in m

    for missing in REQUIRED:
        others = [s for s in REQUIRED if s != missing]
        result = run(["template", "r", str(CHART), "--kube-version", KUBE_VERSION, *[f"--set={s}" for s in others]])
        assert result.returncode != 0 and missing.split("=")[0] in result.stderr, (missing, result.stderr)


def validate(docs: list[dict]) -> None:
    for doc in docs:
        if doc["kind"] in SCHEMALESS_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(f"{doc['kind']} {doc['metadata']['name']}: {error}") from error


def main() -> int:
    lint = run(["lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION, *[f"--set={s}" for s in REQUIRED]])
    print(lint.stdout.strip())
    if lint.returncode != 0:
        print(lint.stderr, file=sys.stderr)
        return 1
    check_default()
    check_variants()
    print("helm template: every assertion holds; manifests valid against Kubernetes", KUBE_VERSION, "schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
