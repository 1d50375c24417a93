#!/usr/bin/env python3
"""Flood test: does an agent with default settings stay small and keep serving?

Starts `floe serve` (embedded SQLite + local objects, every limit at its
default) in a temporary folder, loads a topic with large records, then for
DURATION seconds runs at once:

  * 1,000 idle connections that never send a byte;
  * 50 clients sending oversized frame headers (half announce more than
    max_frame_bytes and are closed at once, half announce exactly 100 MiB, send
    64 KiB of it and stall; each reconnects when closed);
  * 20 clients sending pipelined Fetch requests for the large topic and never
    reading an answer (reconnecting when the agent closes them);
  * a normal confluent-kafka producer and consumer (in a group).

It samples the agent's RSS from /proc/PID/status and a few gauges from
/metrics, checks that the normal client made progress (every record produced
is consumed), prints a JSON summary and exits non-zero if peak RSS reached
--rss-limit-mib or the normal client stalled.

Run with the repository's Python (confluent-kafka installed):
    cargo build --release -p floe-agent --bin floe
    /work/main/.venv/bin/python scripts/flood.py --floe $CARGO_TARGET_DIR/release/floe
"""

import argparse
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from confluent_kafka import Consumer, Producer

MIB = 1024 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def metrics(http):
    """The agent's gauges and counters, summed over label sets."""
    text = urllib.request.urlopen(f"http://{http}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            values[name] = values.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return values


def fetch_v4(correlation_id, topic, offset):
    """A Fetch v4 request (plain header v1) for partition 0 of `topic`."""
    client = b"flood"
    name = topic.encode()
    body = struct.pack(">iiiib", -1, 0, 1, 50 * MIB, 0)  # replica, wait, min, max, isolation
    body += struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, offset, 50 * MIB)
    header = struct.pack(">hhi", 1, 4, correlation_id) + struct.pack(">h", len(client)) + client
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


class Flood:
    """The misbehaving clients, each a thread that reconnects when closed."""

    def __init__(self, addr, topic, stop):
        self.addr = addr
        self.topic = topic
        self.stop = stop
        self.idle = []
        self.counts = {"oversized_headers_sent": 0, "fetches_sent": 0, "reconnects": 0}
        self.lock = threading.Lock()

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def open_idle(self, n):
        for _ in range(n):
            self.idle.append(socket.create_connection(self.addr))

    def oversized(self, i):
        announced = 0x7FFFFFFF if i % 2 == 0 else 100 * MIB
        while not self.stop.is_set():
            try:
                with socket.create_connection(self.addr, timeout=5) as s:
                    s.sendall(struct.pack(">i", announced) + b"\0" * (64 * 1024))
                    self.count("oversized_headers_sent")
                    s.settimeout(1)
                    while not self.stop.is_set():
                        try:
                            if s.recv(4096) == b"":
                                break  # closed by the agent
                        except socket.timeout:
                            continue
            except OSError:
                pass
            self.count("reconnects")
            self.stop.wait(0.2)

    def non_reader(self, i):
        while not self.stop.is_set():
            try:
                s = socket.socket()
                # A small receive window: the agent's writes stall sooner.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
                s.connect(self.addr)
                s.settimeout(5)
                for c in range(200):
                    s.sendall(fetch_v4(c, self.topic, (i * 7) % 50))
                    self.count("fetches_sent")
                # Never read; wait until the agent gives up on us.
                while not self.stop.is_set():
                    try:
                        s.sendall(fetch_v4(999, self.topic, 0))
                        self.count("fetches_sent")
                    except socket.timeout:
                        pass  # our send buffer is full too: the agent stopped reading
                    self.stop.wait(1)
            except OSError:
                pass
            finally:
                s.close()
            self.count("reconnects")
            self.stop.wait(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--floe", default=None, help="floe binary (default: release build)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of flood")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--oversized", type=int, default=50)
    parser.add_argument("--non-readers", type=int, default=20)
    parser.add_argument("--big-mib", type=int, default=96, help="MiB loaded before the flood")
    parser.add_argument("--rss-limit-mib", type=float, default=512.0)
    args = parser.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", "target")
    floe = args.floe or os.path.join(target, "release", "floe")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the agent inherits it

    tmp = tempfile.TemporaryDirectory(prefix="floe-flood-")
    kafka_port, http_port = free_port(), free_port()
    addr = ("127.0.0.1", kafka_port)
    http = f"127.0.0.1:{http_port}"
    log = open(os.path.join(tmp.name, "agent.log"), "w")
    agent = subprocess.Popen(
        [floe, "serve", "--data-dir", os.path.join(tmp.name, "data"),
         "--kafka-listen", f"127.0.0.1:{kafka_port}", "--http-listen", http,
         "--default-partitions", "1"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp.name,
        env={**os.environ, "FLOE_LOG": "warn"},
    )
    peak = {"rss": 0}
    gauges = {}
    stop = threading.Event()

    def sample():
        last_metrics = 0.0
        while agent.poll() is None and not stop.is_set():
            try:
                peak["rss"] = max(peak["rss"], rss_bytes(agent.pid))
            except OSError:
                break
            if time.time() - last_metrics > 1.0:
                last_metrics = time.time()
                try:
                    m = metrics(http)
                    for name in ("floe_connections", "floe_request_pool_bytes",
                                 "floe_queued_response_bytes", "floe_cache_bytes",
                                 "floe_cache_held_bytes", "floe_pending_bytes"):
                        gauges[name] = max(gauges.get(name, 0.0), m.get(name, 0.0))
                except OSError:
                    pass
            time.sleep(0.1)

    summary = {}
    failures = []
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://{http}/readyz", timeout=1)
                break
            except OSError:
                if time.time() > deadline or agent.poll() is not None:
                    raise SystemExit("agent did not become ready")
                time.sleep(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        bootstrap = f"127.0.0.1:{kafka_port}"

        # Large records the non-readers will fetch.
        big_topic = "flood-big"
        loader = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                           "message.max.bytes": 2 * MIB})
        value = b"x" * (512 * 1024)
        for _ in range(args.big_mib * 2):
            while True:
                try:
                    loader.produce(big_topic, value)
                    break
                except BufferError:
                    loader.poll(0.1)
            loader.poll(0)
        if loader.flush(60) != 0:
            failures.append("could not load the large topic")
        del loader

        flood = Flood(addr, big_topic, stop)
        flood.open_idle(args.idle)
        threads = [threading.Thread(target=flood.oversized, args=(i,), daemon=True)
                   for i in range(args.oversized)]
        threads += [threading.Thread(target=flood.non_reader, args=(i,), daemon=True)
                    for i in range(args.non_readers)]
        for t in threads:
            t.start()

        # The normal client, under the flood.
        topic = "flood-normal"
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "flood-normal",
                             "auto.offset.reset": "earliest", "enable.auto.commit": True})
        consumer.subscribe([topic])
        delivered = {"ok": 0, "failed": 0}

        def on_delivery(err, _msg):
            delivered["failed" if err else "ok"] += 1

        produced = consumed = 0
        record = b"r" * 1024
        end = time.time() + args.duration
        while time.time() < end:
            for _ in range(100):
                try:
                    producer.produce(topic, record, on_delivery=on_delivery)
                    produced += 1
                except BufferError:
                    break
            producer.poll(0)
            msg = consumer.poll(0.05)
            while msg is not None:
                if not msg.error():
                    consumed += 1
                msg = consumer.poll(0)
        producer.flush(60)
        drain_end = time.time() + 60
        while consumed < delivered["ok"] and time.time() < drain_end:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                consumed += 1
        consumer.close()
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for s in flood.idle:
            s.close()
        sampler.join(timeout=5)

        summary = {
            "duration_s": args.duration,
            "idle_connections": len(flood.idle),
            "oversized_header_clients": args.oversized,
            "non_reading_clients": args.non_readers,
            "big_topic_mib": args.big_mib,
            **flood.counts,
            "records_produced": delivered["ok"],
            "records_failed": delivered["failed"],
            "records_consumed": consumed,
            "peak_rss_mib": round(peak["rss"] / MIB, 1),
            "rss_limit_mib": args.rss_limit_mib,
            "peak_gauges": gauges,
        }
        if peak["rss"] >= args.rss_limit_mib * MIB:
            failures.append(f"peak RSS {peak['rss'] / MIB:.0f} MiB >= {args.rss_limit_mib} MiB")
        if delivered["ok"] == 0 or delivered["failed"] > 0 or consumed < delivered["ok"]:
            failures.append("the normal client stalled or lost records")
        if agent.poll() is not None:
            failures.append(f"the agent exited with {agent.returncode}")
    finally:
        stop.set()
        if agent.poll() is None:
            agent.terminate()
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()
        log.close()
    summary["failures"] = failures
    print(json.dumps(summary, indent=2))
    if failures:
        with open(os.path.join(tmp.name, "agent.log")) as f:
            sys.stderr.write(f.read()[-4000:])
    tmp.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
