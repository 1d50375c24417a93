"""Checks what can be checked without Docker: the image's Dockerfile (two
stages, the builder makes the binary the runtime copies, non-root, the ports,
the entrypoint, real FLOE_* settings) and the compose cluster (the YAML
parses, the agents' settings are real, their ports line up with what they
advertise and what Prometheus scrapes, the Grafana dashboard parses and its
queries name metrics the agent exports)."""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import sys
import tomllib
from urllib.parse import urlparse

import yaml

import floe_settings

REPO = floe_settings.REPO
INFRA = REPO / "infra"


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def check_dockerfile() -> None:
    path = INFRA / "docker" / "Dockerfile"
    steps = dockerfile_instructions(path.read_text())
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS builder"), froms
    assert "slim" in froms[1] or "distroless" in froms[1], froms[1]
    runtime = steps[[i for i, (w, _) in enumerate(steps) if w == "FROM"][1]:]
    builder = steps[: [i for i, (w, _) in enumerate(steps) if w == "FROM"][1]]

    agent = tomllib.loads((REPO / "agent" / "Cargo.toml").read_text())
    package = agent["package"]["name"]
    binary = agent["bin"][0]["name"]
    build = " ".join(args for word, args in builder if word == "RUN")
    assert f"cargo build --release --locked -p {package} --bin {binary}" in build, build
    installed = re.search(rf"install -m 0755 target/release/{binary} (\S+)", build)
    assert installed, "the builder installs target/release/floe"
    copies = [args for word, args in runtime if word == "COPY"]
    assert copies == [f"--from=builder {installed.group(1)} {installed.group(1)}"], copies
    assert installed.group(1).endswith(f"/{binary}") and installed.group(1).startswith("/usr/local/bin/")

    workspace = tomllib.loads((REPO / "Cargo.toml").read_text())
    arg = next(args for word, args in steps if word == "ARG" and args.startswith("RUST_VERSION="))
    assert arg.split("=", 1)[1] == workspace["workspace"]["package"]["rust-version"], arg

    user = [args for word, args in runtime if word == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0"), user
    env = {}
    for word, args in runtime:
        if word == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    real = floe_settings.env_variables()
    assert all(k in real for k in env if k.startswith("FLOE_")), set(env) - real
    exposed = {int(p) for word, args in runtime if word == "EXPOSE" for p in args.split()}
    listened = {int(env[k].rsplit(":", 1)[1]) for k in ("FLOE_KAFKA_LISTEN", "FLOE_HTTP_LISTEN")}
    assert exposed == listened == {9092, 9644}, (exposed, listened)
    assert ("ENTRYPOINT", '["floe"]') in runtime and ("CMD", '["serve"]') in runtime
    ignore = (REPO / ".dockerignore").read_text().split()
    assert "target" in ignore and ".git" in ignore, ignore


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def check_compose() -> None:
    folder = INFRA / "compose"
    compose = yaml.safe_load((folder / "docker-compose.yml").read_text())
    services = compose["services"]
    agents = {name: s for name, s in services.items() if name.startswith("agent-")}
    assert len(agents) == 3, list(services)
    for name in ("postgres", "minio", "create-bucket", "prometheus", "grafana"):
        assert name in services, name
    real = floe_settings.env_variables()
    pg = services["postgres"]["environment"]
    bucket_script = " ".join(services["create-bucket"]["entrypoint"])
    zones = set()
    advertised = set()
    for name, agent in agents.items():
        env = agent["environment"]
        unknown = [k for k in env if k.startswith("FLOE_") and k not in real]
        assert not unknown, f"{name}: not settings of floe serve: {unknown}"
        dockerfile = (folder / agent["build"]["context"] / agent["build"]["dockerfile"]).resolve()
        assert dockerfile == INFRA / "docker" / "Dockerfile", dockerfile
        metadata = urlparse(env["FLOE_METADATA"])
        assert metadata.hostname in services and metadata.username == pg["POSTGRES_USER"]
        assert metadata.password == pg["POSTGRES_PASSWORD"] and metadata.path == "/" + pg["POSTGRES_DB"]
        store = urlparse(env["FLOE_OBJECT_STORE"])
        assert store.scheme == "s3" and f"floe/{store.hostname}" in bucket_script, (store, bucket_script)
        assert urlparse(env["AWS_ENDPOINT_URL"]).hostname in services
        assert env["AWS_ACCESS_KEY_ID"] == services["minio"]["environment"]["MINIO_ROOT_USER"]
        assert env["AWS_SECRET_ACCESS_KEY"] == services["minio"]["environment"]["MINIO_ROOT_PASSWORD"]
        mapped = {}
        for mapping in agent["ports"]:
            _host_ip, host, inside = mapping.split(":")
            mapped[int(inside)] = int(host)
        kafka = port_of(env["FLOE_KAFKA_LISTEN"])
        assert mapped.get(kafka) == port_of(env["FLOE_ADVERTISED_ADDR"]), (name, mapped, env["FLOE_ADVERTISED_ADDR"])
        assert port_of(env["FLOE_HTTP_LISTEN"]) in mapped, (name, mapped)
        zones.add(env["FLOE_ZONE"])
        advertised.add(env["FLOE_ADVERTISED_ADDR"])
    assert len(zones) == 2 and len(advertised) == 3, (zones, advertised)

    prometheus = yaml.safe_load((folder / "prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    wanted = {f"{name}:{port_of(a['environment']['FLOE_HTTP_LISTEN'])}" for name, a in agents.items()}
    assert targets == wanted, (targets, wanted)
    mounts = services["prometheus"]["volumes"]
    assert any(m.startswith("./prometheus.yml:") for m in mounts), mounts

    datasources = yaml.safe_load((folder / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasources["datasources"][0]["uid"]
    assert urlparse(datasources["datasources"][0]["url"]).hostname == "prometheus"
    providers = yaml.safe_load((folder / "grafana/provisioning/dashboards/floe.yml").read_text())
    dashboards_path = providers["providers"][0]["options"]["path"]
    assert any(m == f"./grafana/dashboards:{dashboards_path}:ro" for m in services["grafana"]["volumes"])
    check_dashboard(folder / "grafana/dashboards/floe.json", uid)


def check_dashboard(path: pathlib.Path, datasource_uid: str) -> None:
    dashboard = json.loads(path.read_text())
    metrics = floe_settings.metric_names()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10, "a dashboard of the main signals"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource_uid, panel["title"]
    named = set()
    for expr in exprs:
        for name in re.findall(r"\bfloe_[a-z0-9_]+", expr):
            assert name in metrics, f"{name} (in {expr!r}) is not a metric of agent/src/metrics.rs"
            named.add(name)
    for signal in ("floe_produce_bytes_total", "floe_fetch_bytes_total", "floe_pending_bytes",
                   "floe_process_cpu_seconds_total"):
        assert signal in named, f"the dashboard does not show {signal}"


def main() -> int:
    check_dockerfile()
    check_compose()
    print("Dockerfile, compose, Prometheus and Grafana files agree with the agent's settings and metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
