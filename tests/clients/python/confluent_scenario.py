"""The client-matrix scenario with confluent-kafka (librdkafka 2.16).

Usage: confluent_scenario.py BOOTSTRAP TOPIC; prints one JSON line per step.
"""

import sys

from confluent_kafka import Consumer, KafkaException, OFFSET_BEGINNING, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

import scenario as sc

BOOTSTRAP, TOPIC = sys.argv[1], sys.argv[2]
BASE = sc.base_timestamp()
admin = AdminClient({"bootstrap.servers": BOOTSTRAP})


def partition_count():
    md = admin.list_topics(TOPIC, timeout=10)
    t = md.topics.get(TOPIC)
    return 0 if t is None or t.error is not None else len(t.partitions)


def create_topic():
    nt = NewTopic(TOPIC, num_partitions=sc.PARTITIONS, replication_factor=1, config=sc.CREATE_CONFIGS)
    admin.create_topics([nt])[TOPIC].result(sc.STEP_TIMEOUT)
    return {"partitions": sc.wait_for("the topic", partition_count)}


def produce():
    offsets = []
    for c, codec in enumerate(sc.CODECS):
        p = Producer({"bootstrap.servers": BOOTSTRAP, "compression.type": codec, "linger.ms": 50, "acks": "all"})

        def delivered(err, msg):
            if err is not None:
                raise KafkaException(err)
            offsets.append(msg.offset())

        for i in range(c * sc.PER_CODEC, (c + 1) * sc.PER_CODEC):
            key, value, headers, ts = sc.expected(BASE)[i]
            p.produce(TOPIC, value, key, partition=0, timestamp=ts, headers=headers, on_delivery=delivered)
        if p.flush(sc.STEP_TIMEOUT) != 0:
            raise TimeoutError("records still unsent")
    if sorted(offsets) != list(range(sc.TOTAL)):
        raise AssertionError(f"delivered at offsets {offsets}")
    return {"records": len(offsets), "codecs": sc.CODECS}


def consumer(group, **extra):
    conf = {"bootstrap.servers": BOOTSTRAP, "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    conf.update(extra)
    return Consumer(conf)


def read(c, n):
    got = []

    def poll():
        m = c.poll(0.5)
        if m is not None:
            if m.error() is not None:
                raise KafkaException(m.error())
            got.append((m.offset(), m.key(), m.value(), list(m.headers() or []), m.timestamp()[1]))
        return len(got) >= n

    sc.wait_for(f"{n} records", poll)
    return got


def consume():
    c = consumer(f"{TOPIC}-assign")
    c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
    got = read(c, sc.TOTAL)
    c.close()
    diff = sc.check_records(got, BASE)
    if diff:
        raise AssertionError(diff)
    return {"records": len(got)}


def group_consume():
    group = f"{TOPIC}-group"
    c = consumer(group)
    c.subscribe([TOPIC])
    got = read(c, sc.TOTAL)
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(TOPIC, 0)], timeout=10)[0].offset
    c.close()
    diff = sc.check_records(sorted(got), BASE)
    if diff:
        raise AssertionError(diff)
    return {"records": len(got), "committed": committed}


def topic_configs():
    res = ConfigResource(ResourceType.TOPIC, TOPIC)
    return admin.describe_configs([res])[res].result(sc.STEP_TIMEOUT)


def describe_configs():
    entries = topic_configs()
    return {k: entries[k].value for k in sorted(sc.CREATE_CONFIGS)}


def alter_configs():
    res = ConfigResource(
        ResourceType.TOPIC,
        TOPIC,
        incremental_configs=[
            ConfigEntry("retention.ms", sc.ALTERED_RETENTION, incremental_operation=AlterConfigOpType.SET)
        ],
    )
    admin.incremental_alter_configs([res])[res].result(sc.STEP_TIMEOUT)
    return {"retention.ms": topic_configs()["retention.ms"].value}


def create_partitions():
    admin.create_partitions([NewPartitions(TOPIC, sc.MORE_PARTITIONS)])[TOPIC].result(sc.STEP_TIMEOUT)
    return {"partitions": sc.wait_for("the new partitions", lambda: partition_count() == sc.MORE_PARTITIONS and sc.MORE_PARTITIONS)}


def delete_records():
    tp = TopicPartition(TOPIC, 0, sc.DELETE_BEFORE)
    admin.delete_records([tp])[tp].result(sc.STEP_TIMEOUT)
    c = consumer(f"{TOPIC}-watermarks")
    low, _high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10, cached=False)
    c.close()
    return {"low_watermark": low}


def list_offsets_by_time():
    c = consumer(f"{TOPIC}-times")
    ts = sc.expected(BASE)[sc.FIND_INDEX][3]
    found = c.offsets_for_times([TopicPartition(TOPIC, 0, ts)], timeout=10)[0]
    c.close()
    if found.error is not None:
        raise KafkaException(found.error)
    return {"offset": found.offset}


def delete_topic():
    admin.delete_topics([TOPIC])[TOPIC].result(sc.STEP_TIMEOUT)
    sc.wait_for("the topic to go", lambda: partition_count() == 0)
    return {"deleted": True}


for name, fn in [
    ("create_topic", create_topic),
    ("produce", produce),
    ("consume", consume),
    ("group_consume", group_consume),
    ("describe_configs", describe_configs),
    ("alter_configs", alter_configs),
    ("create_partitions", create_partitions),
    ("delete_records", delete_records),
    ("list_offsets_by_time", list_offsets_by_time),
    ("delete_topic", delete_topic),
]:
    sc.run_step(name, fn)
