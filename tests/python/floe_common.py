"""Shared helpers for the Floe client driver scripts.

Every script takes the agent's bootstrap address (127.0.0.1:PORT) as its first
argument, checks what the client sees, and exits non-zero with a message starting
with FAIL on the first difference.
"""

import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def fail(message):
    """Stops the script with a failure message."""
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def check(condition, message):
    """Fails with `message` unless `condition` holds."""
    if not condition:
        fail(message)


def check_eq(actual, expected, what):
    """Fails unless `actual == expected`, showing both."""
    if actual != expected:
        fail(f"{what}: expected {expected!r}, got {actual!r}")


def args(count, usage):
    """Returns the bootstrap address followed by `count - 1` further arguments."""
    if len(sys.argv) != count + 1:
        fail(f"usage: {sys.argv[0]} {usage}")
    return sys.argv[1:]


def log(message):
    print(message, flush=True)


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def create_topics(bootstrap, partitions_by_name):
    """Creates topics with AdminClient and waits for the outcome."""
    client = admin(bootstrap)
    futures = client.create_topics(
        [NewTopic(name, num_partitions=n, replication_factor=1)
         for name, n in partitions_by_name.items()],
        operation_timeout=30,
        request_timeout=30,
    )
    for name, future in futures.items():
        try:
            future.result(timeout=60)
        except Exception as e:  # noqa: BLE001 - report any failure
            fail(f"create_topics({name}) failed: {e!r}")


def producer(bootstrap, **extra):
    config = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "message.timeout.ms": 60000,
    }
    config.update(extra)
    return Producer(config)


def consumer(bootstrap, **extra):
    """A consumer meant for assign(): no group offsets are read or committed."""
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": f"floe-tests-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",
    }
    config.update(extra)
    return Consumer(config)


class Deliveries:
    """Collects delivery reports; `items[i]` is (partition, offset) of message i."""

    def __init__(self):
        self.items = {}
        self.errors = []

    def callback(self, index):
        def on_delivery(err, msg):
            if err is not None:
                self.errors.append((index, err))
            else:
                self.items[index] = (msg.partition(), msg.offset())
        return on_delivery

    def wait(self, producer_, count, timeout=60):
        remaining = producer_.flush(timeout)
        check(remaining == 0, f"{remaining} messages still undelivered after {timeout}s")
        check(not self.errors, f"delivery errors: {self.errors[:5]}")
        check_eq(len(self.items), count, "number of delivery reports")


def consume_until_eof(consumer_, partitions, timeout=60):
    """Polls until every partition in `partitions` reported end of partition after its
    last message; returns the messages in the order received. Any error but EOF fails."""
    messages = []
    at_eof = set()
    deadline = time.monotonic() + timeout
    while at_eof != set(partitions):
        if time.monotonic() > deadline:
            fail(f"no end of partition for {set(partitions) - at_eof} within {timeout}s; "
                 f"got {len(messages)} messages")
        msg = consumer_.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_eof.add(msg.partition())
                continue
            fail(f"consumer error: {msg.error()!r}")
        at_eof.discard(msg.partition())
        messages.append(msg)
    return messages


def by_partition(messages):
    out = {}
    for m in messages:
        out.setdefault(m.partition(), []).append(m)
    return out


def assign_from(consumer_, topic, offsets_by_partition):
    consumer_.assign([TopicPartition(topic, p, o) for p, o in offsets_by_partition.items()])
