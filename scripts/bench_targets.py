#!/usr/bin/env python3
"""Measures Floe against its performance targets (docs/benchmarks.md).

Every scenario runs `floe bench` against a fresh agent (a new data folder,
and for the Postgres + S3 scenarios a new bucket prefix), several times, and
the table shows the median of the runs. The agent's peak RSS (VmHWM) is read
from /proc when each run ends.

The `kafka-*` scenarios run the same load against Apache Kafka 4.x on this
machine, for comparison: one KRaft broker (combined broker and controller,
the distribution's 1 GiB heap), its log in a fresh folder on the local disk,
started from the jars that scripts/test.sh resolves (FLOE_KAFKA_CLASSPATH, or
the classpath it caches in ~/.cache/floe-kafka). Kafka has no /metrics of
Floe's kind: its CPU seconds and peak RSS are read from /proc, so its
MiB per CPU-s counts record bytes (key + value) where Floe's counts the
Produce bytes the agent took in. Postgres (durable defaults: fsync and
synchronous_commit on) and moto's S3 server are started here, from the
system's initdb/pg_ctl and the test venv's moto_server (scripts/test.sh
installs both).

    cargo build --release -p floe-agent
    scripts/bench_targets.py                        # all scenarios, 3 runs
    scripts/bench_targets.py --only embedded-max --runs 1
    scripts/bench_targets.py --floe /tmp/floe-old --only embedded-consume
    scripts/bench_targets.py --only embedded-max --only kafka-max   # Floe beside Kafka

The last line of stdout is one JSON object with every run's results.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = ["--record-size", "1024", "--acks", "all"]

# name: (store, agent flags (Kafka: broker settings), bench mode, bench flags)
SCENARIOS = {
    "embedded-max": ("embedded", [], "produce", []),
    "embedded-consume": ("embedded", [], "consume", []),
    "embedded-10mb": ("embedded", [], "produce", ["--rate", "10000"]),
    "embedded-e2e-10mb": ("embedded", [], "e2e", ["--rate", "10000"]),
    "s3-10ms-10mb": ("pg-s3", ["--flush-interval-ms", "10"], "produce", ["--rate", "10000"]),
    "s3-10ms-e2e-10mb": ("pg-s3", ["--flush-interval-ms", "10"], "e2e", ["--rate", "10000"]),
    "s3-default-10mb": ("pg-s3", [], "produce", ["--rate", "10000"]),
    "s3-default-max": ("pg-s3", [], "produce", []),
    "kafka-max": ("kafka", [], "produce", []),
    "kafka-consume": ("kafka", [], "consume", []),
    "kafka-10mb": ("kafka", [], "produce", ["--rate", "10000"]),
    "kafka-e2e-10mb": ("kafka", [], "e2e", ["--rate", "10000"]),
    # Kafka acknowledges acks=all once the in-sync replicas have the records in
    # their page cache; it does not fsync. These two fsync every append, as
    # Floe's embedded store does before it acknowledges.
    "kafka-fsync-max": ("kafka", ["log.flush.interval.messages=1"], "produce", []),
    "kafka-fsync-10mb": ("kafka", ["log.flush.interval.messages=1"], "produce", ["--rate", "10000"]),
}

# (scenario, label, metric path, comparison, bound)
TARGETS = [
    ("embedded-max", "embedded, max: MB/s", "mb_per_sec", ">=", 150),
    ("embedded-max", "embedded, max: MiB ingested per agent CPU-s", "agent.mib_per_cpu_second", ">=", 250),
    ("embedded-10mb", "embedded, 10 MB/s: produce p99 ms", "latency_ms.p99", "<=", 15),
    ("s3-10ms-10mb", "PG + S3, 10 ms flush, 10 MB/s: produce p99 ms", "latency_ms.p99", "<=", 30),
    ("s3-10ms-e2e-10mb", "PG + S3, 10 ms flush, 10 MB/s: e2e p99 ms", "latency_ms.p99", "<=", 50),
    ("s3-default-10mb", "PG + S3, default (100 ms), 10 MB/s: produce p99 ms", "latency_ms.p99", "<=", 160),
    ("s3-default-max", "PG + S3, default, max: PUTs per GiB", "agent.puts_per_gib", "<=", 128),
    ("embedded-max", "embedded, max: PUTs per GiB", "agent.puts_per_gib", "<=", 128),
    ("embedded-e2e-10mb", "embedded, tailing consumer: GETs per GiB", "agent.gets_per_gib", "<=", 0),
    ("s3-10ms-e2e-10mb", "PG + S3, tailing consumer: GETs per GiB", "agent.gets_per_gib", "<=", 0),
]
RSS_LIMIT_MIB = 512


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def find_pg_program(name):
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/" + name))
    if not versions:
        sys.exit(f"{name} not found: install Postgres (scripts/test.sh does)")
    return str(versions[-1])


class Postgres:
    """A durable throwaway server, run as the postgres user when root."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="floe-bench-pg-")
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        data = f"{self.dir}/data"
        subprocess.run(self.as_user + [find_pg_program("initdb"), "-D", data, "-U", "postgres",
                                       "-A", "trust", "--no-sync", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL)
        self.pg_ctl = find_pg_program("pg_ctl")
        subprocess.run(self.as_user + [self.pg_ctl, "-D", data, "-l", f"{self.dir}/log", "-w", "-o",
                                       f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}"
                                       " -c max_connections=200", "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self):
        subprocess.run(self.as_user + [self.pg_ctl, "-D", f"{self.dir}/data", "-m", "fast", "-w",
                                       "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


class Moto:
    def __init__(self):
        program = ROOT / ".venv" / "bin" / "moto_server"
        if not program.exists():
            sys.exit(f"{program} missing: run scripts/test.sh once to set up the venv")
        self.port = free_port()
        self.proc = subprocess.Popen([str(program), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                req = urllib.request.Request(f"{self.endpoint}/floe-bench", method="PUT")
                urllib.request.urlopen(req, timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def kafka_classpath():
    classpath = os.environ.get("FLOE_KAFKA_CLASSPATH")
    if classpath:
        return classpath
    cached = Path.home() / ".cache" / "floe-kafka" / "classpath.txt"
    if not cached.exists():
        sys.exit("no Kafka classpath: run scripts/test.sh once (it resolves Kafka's jars) "
                 "or set FLOE_KAFKA_CLASSPATH")
    return cached.read_text().strip()


class Kafka:
    """One Apache Kafka broker in KRaft mode with a fresh log folder."""

    def __init__(self, classpath, settings):
        self.dir = tempfile.mkdtemp(prefix="floe-bench-kafka-")
        self.port, controller = free_port(), free_port()
        props = f"{self.dir}/server.properties"
        with open(props, "w") as f:
            f.write("\n".join([
                "process.roles=broker,controller", "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{controller}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={self.dir}/data", "num.partitions=4",
                "offsets.topic.replication.factor=1", "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1", "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1", "group.initial.rebalance.delay.ms=0",
            ] + settings) + "\n")
        java = ["java", "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classpath]
        subprocess.run(java + ["-Xmx256m", "kafka.tools.StorageTool", "format", "-t",
                               "ZmxvZS1iZW5jaC1rYWZrYQ", "-c", props],
                       check=True, stdout=subprocess.DEVNULL)
        self.log = open(f"{self.dir}/kafka.log", "w")
        self.proc = subprocess.Popen(java + ["-Xmx1G", "-Xms1G", "kafka.Kafka", props],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.bootstrap = f"127.0.0.1:{self.port}"
        deadline = time.time() + 120
        # Ready once the tools can list topics (the broker is unfenced).
        while subprocess.run(java + ["-Xmx256m", "org.apache.kafka.tools.TopicCommand",
                                     "--bootstrap-server", self.bootstrap, "--list"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"Apache Kafka did not start; see {self.dir}/kafka.log")
            time.sleep(0.5)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_kafka_once(floe, classpath, name, run, seconds, partitions):
    _, settings, mode, bench_flags = SCENARIOS[name]
    kafka = Kafka(classpath, settings)
    try:
        topic = f"{name}-{run}"
        common = COMMON + ["--partitions", str(partitions)]
        bench = [floe, "bench", mode, "--bootstrap", kafka.bootstrap, "--topic", topic,
                 "--duration", str(seconds), "--json"] + common
        if mode == "consume":
            fill = [floe, "bench", "produce", "--bootstrap", kafka.bootstrap, "--topic", topic,
                    "--duration", str(seconds)] + common
            subprocess.run(fill, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            bench[bench.index("--duration") + 1] = "60"
        else:
            bench += ["--warmup", "2"] + bench_flags
        cpu_before = kafka.cpu_seconds()
        out = subprocess.run(bench, check=True, capture_output=True, text=True).stdout
        cpu = kafka.cpu_seconds() - cpu_before
        result = json.loads(out.strip().splitlines()[-1])
        mib = result["bytes"] / 2**20
        produced = result["produce"]["bytes"] / 2**20 if mode == "e2e" else mib
        result["agent"] = {
            "cpu_seconds": cpu,
            "mib_per_cpu_second": produced / cpu if mode != "consume" and cpu > 0 else None,
            "served_mib_per_cpu_second": mib / cpu if mode == "consume" and cpu > 0 else None,
        }
        result["agent_peak_rss_mib"] = peak_rss_mib(kafka.proc.pid)
        return result
    finally:
        kafka.stop()


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def run_once(floe, name, run, services, seconds, partitions):
    store, agent_flags, mode, bench_flags = SCENARIOS[name]
    kafka, http = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="floe-bench-data-")
    env = dict(os.environ)
    args = [floe, "serve", "--data-dir", data, "--kafka-listen", f"127.0.0.1:{kafka}",
            "--http-listen", f"127.0.0.1:{http}"] + agent_flags
    if store == "pg-s3":
        pg, moto = services
        args += ["--metadata", pg.url, "--object-store", f"s3://floe-bench/{name}-{run}-{time.time_ns()}"]
        env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                   AWS_ENDPOINT_URL=moto.endpoint, AWS_ALLOW_HTTP="true")
    agent = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{http}/readyz")
        topic = f"{name}-{run}"
        common = COMMON + ["--partitions", str(partitions)]
        bench = [floe, "bench", mode, "--bootstrap", f"127.0.0.1:{kafka}", "--topic", topic,
                 "--duration", str(seconds), "--agent-http", f"127.0.0.1:{http}", "--json"] + common
        if mode == "consume":
            # Something to read: a full-speed produce first, not measured.
            fill = [floe, "bench", "produce", "--bootstrap", f"127.0.0.1:{kafka}", "--topic", topic,
                    "--duration", str(seconds)] + common
            subprocess.run(fill, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            bench[bench.index("--duration") + 1] = "60"
        else:
            bench += ["--warmup", "2"] + bench_flags
        out = subprocess.run(bench, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["agent_peak_rss_mib"] = peak_rss_mib(agent.pid)
        return result
    finally:
        agent.terminate()
        agent.wait()
        shutil.rmtree(data, ignore_errors=True)


def get(result, path):
    for part in path.split("."):
        if result is None:
            return None
        result = result.get(part)
    return result


def median(results, path):
    values = [v for v in (get(r, path) for r in results) if v is not None]
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floe", default=None, help="the floe binary [release build]")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of each topic")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="scenarios to run")
    opts = parser.parse_args()
    target_dir = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    floe = opts.floe or f"{target_dir}/release/floe"
    names = opts.only or list(SCENARIOS)
    services = None
    if any(SCENARIOS[n][0] == "pg-s3" for n in names):
        services = (Postgres(), Moto())
    classpath = kafka_classpath() if any(SCENARIOS[n][0] == "kafka" for n in names) else None
    results = {}
    try:
        for name in names:
            results[name] = []
            for run in range(1, opts.runs + 1):
                if SCENARIOS[name][0] == "kafka":
                    r = run_kafka_once(floe, classpath, name, run, opts.seconds, opts.partitions)
                else:
                    r = run_once(floe, name, run, services, opts.seconds, opts.partitions)
                results[name].append(r)
                print(f"{name} run {run}: {r['mb_per_sec']:.1f} MB/s, p99 {r['latency_ms']['p99']:.1f} ms, "
                      f"peak RSS {r['agent_peak_rss_mib']:.0f} MiB", file=sys.stderr)
    finally:
        if services:
            for s in services:
                s.stop()

    print("| scenario | MB/s | p50 ms | p99 ms | p99.9 ms | PUTs/GiB | GETs/GiB | MiB/agent CPU-s | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    fmt = lambda v, d=1: "–" if v is None else f"{v:,.{d}f}"
    for name, rs in results.items():
        cpu = "agent.served_mib_per_cpu_second" if SCENARIOS[name][2] == "consume" else "agent.mib_per_cpu_second"
        print(f"| {name} | {fmt(median(rs, 'mb_per_sec'))} | {fmt(median(rs, 'latency_ms.p50'))} | "
              f"{fmt(median(rs, 'latency_ms.p99'))} | {fmt(median(rs, 'latency_ms.p999'))} | "
              f"{fmt(median(rs, 'agent.puts_per_gib'), 0)} | {fmt(median(rs, 'agent.gets_per_gib'), 0)} | "
              f"{fmt(median(rs, cpu), 0)} | {fmt(median(rs, 'agent_peak_rss_mib'), 0)} |")
    print()
    print("| target | bound | median | met |")
    print("| --- | ---: | ---: | --- |")
    for name, label, path, op, bound in TARGETS:
        if name not in results:
            continue
        value = median(results[name], path)
        if value is None and path.endswith("gets_per_gib"):
            value = 0.0  # nothing served at all: no GET either
        met = value is not None and (value >= bound if op == ">=" else value <= bound)
        print(f"| {label} | {op} {bound} | {fmt(value)} | {'yes' if met else 'NO'} |")
    floe_runs = [r for n, rs in results.items() if SCENARIOS[n][0] != "kafka" for r in rs]
    if floe_runs:
        peak = max((r["agent_peak_rss_mib"] or 0) for r in floe_runs)
        print(f"| agent peak RSS, any scenario (MiB) | <= {RSS_LIMIT_MIB} | {peak:,.0f} | "
              f"{'yes' if peak <= RSS_LIMIT_MIB else 'NO'} |")
    print(json.dumps({"runs": results}))


if __name__ == "__main__":
    main()
