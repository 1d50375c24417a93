"""Cross-agent long polling: a confluent-kafka consumer pinned to agent B (its client id
names B's zone, so B leads every partition for it) waits with fetch.wait.max.ms=10000
on an empty partition; a producer pinned to agent A (A's zone) writes one record 2 s
later. The consumer must get it within 5 s of its production: a commit on A wakes the
fetch waiting on B (LISTEN/NOTIFY, or the agents' poll fallback), not the end of the
10 s wait.

usage: multi_long_poll.py PRODUCER_BOOTSTRAP TOPIC CONSUMER_BOOTSTRAP
       PRODUCER_ZONE CONSUMER_ZONE
"""

import time

from floe_common import (KafkaError, args, assign_from, check, check_eq, consumer, fail,
                         log, producer)

BOUND_S = 5.0


def leader_of(client, topic, partition):
    deadline = time.monotonic() + 30
    while True:
        md = client.list_topics(topic, timeout=30)
        entry = md.topics.get(topic)
        if entry is not None and entry.error is None and partition in entry.partitions:
            leader = entry.partitions[partition].leader
            if leader in md.brokers:
                return f"{md.brokers[leader].host}:{md.brokers[leader].port}"
        if time.monotonic() > deadline:
            fail(f"no leader for {topic}/{partition} in the metadata")
        time.sleep(0.2)


def main():
    produce_at, topic, consume_at, producer_zone, consumer_zone = args(
        5, "PRODUCER_BOOTSTRAP TOPIC CONSUMER_BOOTSTRAP PRODUCER_ZONE CONSUMER_ZONE")
    c = consumer(consume_at, **{"client.id": f"floe-tests-consumer,floe_az={consumer_zone}",
                                "fetch.wait.max.ms": 10000, "fetch.min.bytes": 1,
                                "enable.partition.eof": False})
    check_eq(leader_of(c, topic, 0), consume_at, "partition leader for the consumer")
    assign_from(c, topic, {0: 0})

    p = producer(produce_at, **{"client.id": f"floe-tests-producer,floe_az={producer_zone}"})
    check_eq(leader_of(p, topic, 0), produce_at, "partition leader for the producer")

    # Let the consumer start its (long) fetch on the empty partition.
    settle_until = time.monotonic() + 2.0
    while time.monotonic() < settle_until:
        msg = c.poll(0.2)
        if msg is not None:
            fail(f"got something from an empty partition: {msg.error() or msg.value()!r}")

    produced_at = time.monotonic()
    p.produce(topic, value=b"wake-up", partition=0)
    check_eq(p.flush(30), 0, "undelivered messages")
    acked_after = time.monotonic() - produced_at

    deadline = produced_at + 15.0
    while True:
        msg = c.poll(0.05)
        now = time.monotonic()
        if msg is not None:
            if msg.error() and msg.error().code() != KafkaError._PARTITION_EOF:
                fail(f"consumer error: {msg.error()!r}")
            if not msg.error():
                break
        if now > deadline:
            fail("record not received within 15 s of its production")
    latency = now - produced_at
    c.close()
    check_eq((msg.offset(), msg.value()), (0, b"wake-up"), "received record")
    log(f"produce via {produce_at} acknowledged after {acked_after:.3f}s, "
        f"received via {consume_at} after {latency:.3f}s")
    check(latency < BOUND_S,
          f"record received {latency:.1f}s after production; a fetch waiting on another "
          f"agent must be woken by the commit (bound {BOUND_S}s, fetch.wait.max.ms=10000)")
    log("ok: a commit on one agent woke a long poll on another")


if __name__ == "__main__":
    main()
