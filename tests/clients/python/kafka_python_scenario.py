"""The client-matrix scenario with kafka-python (its own pure-Python codec).

Usage: kafka_python_scenario.py BOOTSTRAP TOPIC; prints one JSON line per step.
kafka-python alters configs with the whole-set AlterConfigs (it has no incremental
call), which is what this program uses.
"""

import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic

import scenario as sc

BOOTSTRAP, TOPIC = sys.argv[1], sys.argv[2]
BASE = sc.base_timestamp()
TP0 = TopicPartition(TOPIC, 0)
admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)


def partition_count():
    for t in admin.describe_topics([TOPIC]):
        if t["topic"] == TOPIC and t["error_code"] == 0:
            return len(t["partitions"])
    return 0


def create_topic():
    admin.create_topics(
        [NewTopic(TOPIC, sc.PARTITIONS, 1, topic_configs=sc.CREATE_CONFIGS)], timeout_ms=30000
    )
    return {"partitions": sc.wait_for("the topic", partition_count)}


def produce():
    offsets = []
    for c, codec in enumerate(sc.CODECS):
        p = KafkaProducer(
            bootstrap_servers=BOOTSTRAP,
            compression_type=None if codec == "none" else codec,
            acks="all",
            linger_ms=50,
        )
        futures = []
        for i in range(c * sc.PER_CODEC, (c + 1) * sc.PER_CODEC):
            key, value, headers, ts = sc.expected(BASE)[i]
            futures.append(p.send(TOPIC, value=value, key=key, headers=headers, partition=0, timestamp_ms=ts))
        offsets.extend(f.get(timeout=sc.STEP_TIMEOUT).offset for f in futures)
        p.close()
    if offsets != list(range(sc.TOTAL)):
        raise AssertionError(f"delivered at offsets {offsets}")
    return {"records": len(offsets), "codecs": sc.CODECS}


def read(c, n):
    got = []

    def poll():
        for records in c.poll(timeout_ms=500).values():
            for r in records:
                got.append((r.offset, r.key, r.value, list(r.headers), r.timestamp))
        return len(got) >= n

    sc.wait_for(f"{n} records", poll)
    return got


def consumer(**extra):
    return KafkaConsumer(
        bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, auto_offset_reset="earliest", **extra
    )


def consume():
    c = consumer()
    c.assign([TP0])
    c.seek_to_beginning(TP0)
    got = read(c, sc.TOTAL)
    c.close()
    diff = sc.check_records(got, BASE)
    if diff:
        raise AssertionError(diff)
    return {"records": len(got)}


def group_consume():
    c = consumer(group_id=f"{TOPIC}-group")
    c.subscribe([TOPIC])
    got = read(c, sc.TOTAL)
    c.commit()
    committed = c.committed(TP0)
    c.close()
    diff = sc.check_records(sorted(got), BASE)
    if diff:
        raise AssertionError(diff)
    return {"records": len(got), "committed": committed}


def topic_configs():
    out = {}
    for response in admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)]):
        for resource in response.resources:
            if resource[0] != 0:
                raise RuntimeError(f"DescribeConfigs error {resource[0]}: {resource[1]}")
            for entry in resource[4]:
                out[entry[0]] = entry[1]
    return out


def describe_configs():
    entries = topic_configs()
    return {k: entries[k] for k in sorted(sc.CREATE_CONFIGS)}


def alter_configs():
    configs = dict(sc.CREATE_CONFIGS, **{"retention.ms": sc.ALTERED_RETENTION})
    response = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs=configs)])
    for resource in response.resources:
        if resource[0] != 0:
            raise RuntimeError(f"AlterConfigs error {resource[0]}: {resource[1]}")
    return {"retention.ms": topic_configs()["retention.ms"]}


def create_partitions():
    admin.create_partitions({TOPIC: NewPartitions(sc.MORE_PARTITIONS)})
    return {"partitions": sc.wait_for("the new partitions", lambda: partition_count() == sc.MORE_PARTITIONS and sc.MORE_PARTITIONS)}


def delete_records():
    admin.delete_records({TP0: sc.DELETE_BEFORE})
    c = consumer()
    low = c.beginning_offsets([TP0])[TP0]
    c.close()
    return {"low_watermark": low}


def list_offsets_by_time():
    c = consumer()
    ts = sc.expected(BASE)[sc.FIND_INDEX][3]
    found = c.offsets_for_times({TP0: ts})[TP0]
    c.close()
    return {"offset": found.offset}


def delete_topic():
    admin.delete_topics([TOPIC], timeout_ms=30000)
    sc.wait_for("the topic to go", lambda: TOPIC not in admin.list_topics())
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
