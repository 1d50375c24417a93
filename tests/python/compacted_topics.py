"""Compacted topics (cleanup.policy=compact) with confluent-kafka (librdkafka 2.16).

Usage: compacted_topics.py BOOTSTRAP PREFIX

1. A compacted topic of two partitions (min.cleanable.dirty.ratio=0.01,
   delete.retention.ms=8000) gets five rounds of updates to 300 keys, the last
   round a tombstone for every tenth key. Read from the beginning once the log
   cleaner ran, it holds exactly the latest record of each key, tombstones
   included, at the offsets they were produced at (increasing, with gaps);
   after delete.retention.ms the tombstoned keys are gone, the others as before.
2. A keyless record on it is refused INVALID_RECORD, a keyed one in the same
   run is delivered (as librdkafka's test 0011 checks).
3. Records a day old on a compact,delete topic with retention.ms=60000 go by
   retention; the same records on a compact-only topic stay.
"""

import time

from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic

from floe_common import (admin, args, check, check_eq, consume_until_eof, consumer, fail,
                         log, producer)

KEYS = 300
ROUNDS = 5
PARTITIONS = 2
DELETE_RETENTION_MS = 8000
WAIT = 120


def create(bootstrap, name, partitions, config):
    client = admin(bootstrap)  # kept alive until the futures resolve
    futures = client.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)],
        operation_timeout=30, request_timeout=30)
    for topic, future in futures.items():
        try:
            future.result(timeout=60)
        except Exception as e:  # noqa: BLE001 - report any failure
            fail(f"create_topics({topic}) failed: {e!r}")


def read_all(bootstrap, topic, partitions):
    """Every record from the log start: {(partition, offset): (key, value)}."""
    c = consumer(bootstrap)
    c.assign([TopicPartition(topic, p, -2) for p in range(partitions)])
    messages = consume_until_eof(c, list(range(partitions)))
    c.close()
    return [(m.partition(), m.offset(), m.key(), m.value()) for m in messages]


def produce_updates(bootstrap, topic):
    """Produces the rounds; returns the latest (partition, offset, key, value) per key."""
    p = producer(bootstrap, **{"enable.idempotence": True, "linger.ms": 20})
    latest = {}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            latest[msg.key()] = (msg.partition(), msg.offset(), msg.key(), msg.value())

    for r in range(ROUNDS):
        for k in range(KEYS):
            key = f"key-{k:03}".encode()
            value = None if (r == ROUNDS - 1 and k % 10 == 0) else f"v{r}-{k}".encode()
            p.produce(topic, key=key, value=value, on_delivery=on_delivery)
            p.poll(0)
        # One round per flush: several index rows, several cleans' worth.
        check_eq(p.flush(60), 0, "undelivered updates")
    check(not errors, f"delivery errors: {errors[:5]}")
    check_eq(len(latest), KEYS, "keys delivered")
    return latest


def wait_for(bootstrap, topic, partitions, expected, what):
    deadline = time.monotonic() + WAIT
    while True:
        records = sorted(read_all(bootstrap, topic, partitions))
        if records == expected:
            return records
        if time.monotonic() > deadline:
            fail(f"{what}: not reached within {WAIT}s; {len(records)} records read, "
                 f"{len(expected)} expected; first read {records[:3]}")
        time.sleep(0.5)


def compacted(bootstrap, topic):
    create(bootstrap, topic, PARTITIONS, {
        "cleanup.policy": "compact",
        "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": str(DELETE_RETENTION_MS),
    })
    latest = produce_updates(bootstrap, topic)
    with_tombstones = sorted(latest.values())
    tombstones = [r for r in with_tombstones if r[3] is None]
    check_eq(len(tombstones), KEYS // 10, "tombstones produced")
    records = wait_for(bootstrap, topic, PARTITIONS, with_tombstones,
                       "the latest record of each key, tombstones included")
    for part in range(PARTITIONS):
        offsets = [r[1] for r in records if r[0] == part]
        check(offsets == sorted(set(offsets)), f"offsets of partition {part} increase")
        check(offsets and offsets[0] > 0 and len(offsets) < offsets[-1] + 1,
              f"partition {part} has gaps where older records were: {offsets[:5]}")
    log(f"cleaned: {len(records)} records left of {KEYS * ROUNDS}, "
        f"{len(tombstones)} tombstones kept")
    without = sorted(r for r in with_tombstones if r[3] is not None)
    wait_for(bootstrap, topic, PARTITIONS, without, "tombstoned keys gone")
    log(f"tombstones gone after delete.retention.ms: {len(without)} records left")


def keyless(bootstrap, topic):
    # Not idempotent: a refused batch would make an idempotent producer
    # drain and bump its epoch, which is not what this checks.
    p = producer(bootstrap)
    outcomes = {}

    def on_delivery(err, msg):
        outcomes[msg.key()] = err

    p.produce(topic, value=b"no key", partition=0, on_delivery=on_delivery)
    check_eq(p.flush(60), 0, "undelivered keyless record")
    p.produce(topic, key=b"keyed-after", value=b"ok", partition=0, on_delivery=on_delivery)
    check_eq(p.flush(60), 0, "undelivered keyed record")
    err = outcomes.get(None)
    check(err is not None, "a keyless record on a compacted topic was delivered")
    check_eq(err.code(), KafkaError.INVALID_RECORD, f"keyless record refused ({err})")
    check_eq(outcomes.get(b"keyed-after"), None, "the keyed record is delivered")
    log(f"keyless record refused: {err}")


def retention(bootstrap, both, compact_only):
    for topic, policy in ((both, "compact,delete"), (compact_only, "compact")):
        create(bootstrap, topic, 1, {"cleanup.policy": policy, "retention.ms": "60000"})
    day_ago = int(time.time() * 1000) - 86_400_000
    for topic in (both, compact_only):
        p = producer(bootstrap)
        for i in range(50):
            p.produce(topic, key=f"old-{i}".encode(), value=b"old", partition=0,
                      timestamp=day_ago + i)
        check_eq(p.flush(60), 0, f"undelivered old records on {topic}")
    deadline = time.monotonic() + WAIT
    c = consumer(bootstrap)
    while True:
        low, high = c.get_watermark_offsets(TopicPartition(both, 0), timeout=10)
        if low == 50 and high == 50:
            break
        if time.monotonic() > deadline:
            fail(f"retention left {both} at [{low}, {high}) within {WAIT}s")
        time.sleep(0.5)
    p = producer(bootstrap)
    p.produce(both, key=b"new", value=b"new", partition=0)
    check_eq(p.flush(60), 0, "undelivered new record")
    check_eq([(r[1], r[2]) for r in read_all(bootstrap, both, 1)], [(50, b"new")],
             f"{both} after retention")
    low, high = c.get_watermark_offsets(TopicPartition(compact_only, 0), timeout=10)
    check_eq((low, high), (0, 50), f"{compact_only}: retention leaves compact-only topics")
    check_eq(len(read_all(bootstrap, compact_only, 1)), 50, f"records of {compact_only}")
    c.close()
    log("compact,delete: old records went by retention; compact alone kept them")


def main():
    bootstrap, prefix = args(2, "BOOTSTRAP PREFIX")
    compacted(bootstrap, f"{prefix}-compacted")
    keyless(bootstrap, f"{prefix}-compacted")
    retention(bootstrap, f"{prefix}-compact-delete", f"{prefix}-compact-only")
    log("OK")


if __name__ == "__main__":
    main()
