"""A confluent-kafka producer for the multi-agent tests: sends COUNT records with
unique keys PREFIX-<i> (value PREFIX-<i>-value) to explicit partitions (i modulo
PARTITIONS), and reports what was acknowledged where.

It does not judge the outcome (a test may kill agents while it runs): it prints one
JSON document on its last stdout line,

    {"acked": [[i, partition, offset], ...], "failed": [[i, "error"], ...],
     "fatal": ["..."], "unflushed": N, "leaders": {"0": "127.0.0.1:PORT", ...}}

and exits 0. It fails (exit 1, FAIL: message) only when it cannot start: the topic is
missing from the metadata, or --expect-leader does not hold.

usage: multi_produce.py BOOTSTRAP TOPIC --count N --partitions P [--prefix X]
       [--idempotent] [--rate R] [--client-id ID] [--timeout-s S] [--progress FILE]
       [--expect-leader HOST:PORT]
"""

import argparse
import json
import os
import sys
import time

from confluent_kafka import Producer

from floe_common import check_eq, fail


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("topic")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--prefix", default="r")
    parser.add_argument("--idempotent", action="store_true")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="records per second (0: as fast as possible)")
    parser.add_argument("--client-id", default="floe-tests-multi-produce")
    parser.add_argument("--timeout-s", type=float, default=120.0,
                        help="message.timeout.ms in seconds")
    parser.add_argument("--progress", help="file to keep the acknowledged count in")
    parser.add_argument("--expect-leader",
                        help="host:port that must lead every partition for this client")
    return parser.parse_args()


def stderr(message):
    print(message, file=sys.stderr, flush=True)


class Progress:
    """Writes the number of acknowledged records to a file (atomically), at most every
    50 ms, so a test can act when the load is under way."""

    def __init__(self, path):
        self.path = path
        self.last_write = 0.0
        self.last_value = -1

    def update(self, value, force=False):
        if not self.path or value == self.last_value:
            return
        now = time.monotonic()
        if not force and now - self.last_write < 0.05:
            return
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as f:
            f.write(str(value))
        os.replace(tmp, self.path)
        self.last_write = now
        self.last_value = value


def leaders(producer, topic, partitions):
    """The leader (host:port) of each partition as this client sees it."""
    deadline = time.monotonic() + 30
    while True:
        md = producer.list_topics(topic, timeout=30)
        entry = md.topics.get(topic)
        ready = (entry is not None and entry.error is None
                 and len(entry.partitions) == partitions
                 and all(p.leader in md.brokers for p in entry.partitions.values()))
        if ready:
            return {str(p): f"{md.brokers[m.leader].host}:{md.brokers[m.leader].port}"
                    for p, m in entry.partitions.items()}
        if time.monotonic() > deadline:
            fail(f"topic {topic} not ready in the metadata: "
                 f"{entry.error if entry else 'missing'}, brokers {md.brokers}")
        time.sleep(0.2)


def main():
    a = parse_args()
    acked = []
    failed = []
    fatal = []

    def on_error(err):
        stderr(f"client error: {err}")
        if err.fatal():
            fatal.append(str(err))

    config = {
        "bootstrap.servers": a.bootstrap,
        "client.id": a.client_id,
        "acks": "all",
        "enable.idempotence": a.idempotent,
        "message.timeout.ms": int(a.timeout_s * 1000),
        "linger.ms": 5,
        "retry.backoff.ms": 100,
        "reconnect.backoff.max.ms": 1000,
        "topic.metadata.refresh.interval.ms": 1000,
        "error_cb": on_error,
    }
    p = Producer(config)
    seen_leaders = leaders(p, a.topic, a.partitions)
    if a.expect_leader:
        check_eq(sorted(set(seen_leaders.values())), [a.expect_leader],
                 f"leaders for client.id={a.client_id}")

    def callback(index):
        def on_delivery(err, msg):
            if err is not None:
                failed.append([index, str(err)])
            else:
                acked.append([index, msg.partition(), msg.offset()])
        return on_delivery

    progress = Progress(a.progress)
    start = time.monotonic()
    for i in range(a.count):
        if a.rate > 0:
            due = start + i / a.rate
            while True:
                wait = due - time.monotonic()
                if wait <= 0:
                    break
                p.poll(min(wait, 0.05))
                progress.update(len(acked))
        key = f"{a.prefix}-{i}"
        while True:
            try:
                p.produce(a.topic, key=key.encode(), value=f"{key}-value".encode(),
                          partition=i % a.partitions, on_delivery=callback(i))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
        progress.update(len(acked))

    deadline = time.monotonic() + a.timeout_s + 30
    unflushed = len(p)
    while unflushed and time.monotonic() < deadline:
        unflushed = p.flush(1.0)
        progress.update(len(acked), force=True)
    progress.update(len(acked), force=True)
    if unflushed == 0:
        check_eq(len(acked) + len(failed), a.count, "delivery reports")
    stderr(f"acked {len(acked)}, failed {len(failed)}, unflushed {unflushed} "
           f"in {time.monotonic() - start:.1f}s")
    print(json.dumps({"acked": acked, "failed": failed, "fatal": fatal,
                      "unflushed": unflushed, "leaders": seen_leaders}), flush=True)


if __name__ == "__main__":
    main()
