"""The admin APIs beyond topic creation, through confluent-kafka's AdminClient
(librdkafka 2.16) and kafka-python's KafkaAdminClient.

usage: admin_apis.py BOOTSTRAP SCENARIO TOPIC
  partitions  create_partitions (validate-only, not an increase, unknown topic, a
              real increase), then produce to a new partition and consume it
  records     delete_records, then consume from the beginning and list_offsets
  describe    describe_cluster and describe_topics with authorized operations, elect_leaders
  kafka-python  kafka-python's create_partitions, delete_records, describe_cluster
  session-ok / session-refused  a group member with a 3 s session timeout joins, or
              gets INVALID_SESSION_TIMEOUT
"""

import time

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AclOperation, NewPartitions, OffsetSpec

from floe_common import (Deliveries, admin, args, assign_from, check, check_eq, consumer,
                         consume_until_eof, create_topics, fail, log, producer)


def expect_error(future, code, what, message=None):
    """Fails unless `future` fails with Kafka error `code` (and `message`, if given)."""
    try:
        future.result(timeout=30)
    except KafkaException as e:
        err = e.args[0]
        check_eq(err.code(), code, f"{what}: error code ({err})")
        if message is not None:
            check_eq(err.str(), message, f"{what}: error message")
        return
    fail(f"{what}: succeeded, expected error {code}")


def partition_count(client, topic):
    md = client.list_topics(topic, timeout=10)
    return len(md.topics[topic].partitions)


def produce(bootstrap, topic, partition, values):
    """Produces `values` to `partition`; returns their offsets."""
    p = producer(bootstrap)
    deliveries = Deliveries()
    for i, v in enumerate(values):
        p.produce(topic, value=v, partition=partition, on_delivery=deliveries.callback(i))
    deliveries.wait(p, len(values))
    check(all(part == partition for part, _ in deliveries.items.values()),
          f"delivered to partition {partition}: {deliveries.items}")
    return [deliveries.items[i][1] for i in range(len(values))]


def partitions(bootstrap, topic):
    client = admin(bootstrap)
    create_topics(bootstrap, {topic: 2})

    # validate_only checks and changes nothing.
    futures = client.create_partitions([NewPartitions(topic, 4)], validate_only=True)
    futures[topic].result(timeout=30)
    check_eq(partition_count(client, topic), 2, "partitions after validate_only")

    # Not an increase, with Kafka's messages; an unknown topic.
    futures = client.create_partitions([NewPartitions(topic, 1)])
    expect_error(futures[topic], KafkaError.INVALID_PARTITIONS, "shrink",
                 f"The topic {topic} currently has 2 partition(s); 1 would not be an increase.")
    futures = client.create_partitions([NewPartitions(topic, 2)])
    expect_error(futures[topic], KafkaError.INVALID_PARTITIONS, "same count",
                 "Topic already has 2 partition(s).")
    futures = client.create_partitions([NewPartitions(f"{topic}-missing", 3)])
    expect_error(futures[f"{topic}-missing"], KafkaError.UNKNOWN_TOPIC_OR_PART, "unknown topic")

    # A real increase: the new partitions are in Metadata and take records.
    futures = client.create_partitions([NewPartitions(topic, 4)])
    futures[topic].result(timeout=30)
    check_eq(partition_count(client, topic), 4, "partitions after create_partitions")
    values = [f"new-{i}".encode() for i in range(5)]
    check_eq(produce(bootstrap, topic, 3, values), list(range(5)), "offsets in partition 3")
    c = consumer(bootstrap)
    assign_from(c, topic, {3: 0})
    got = consume_until_eof(c, [3])
    c.close()
    check_eq([(m.offset(), m.value()) for m in got], list(enumerate(values)),
             "records consumed from partition 3")
    log("ok: create_partitions grew the topic and its new partition serves records")


def records(bootstrap, topic):
    client = admin(bootstrap)
    create_topics(bootstrap, {topic: 2})
    values = [f"r{i}".encode() for i in range(10)]
    produce(bootstrap, topic, 0, values[:4])
    produce(bootstrap, topic, 0, values[4:])

    futures = client.delete_records([TopicPartition(topic, 0, 6)])
    (tp, future), = futures.items()
    check_eq(future.result(timeout=30).low_watermark, 6, "low watermark after delete_records")

    # Consuming from the beginning starts at the new log start.
    c = consumer(bootstrap, **{"auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, -2)])  # OFFSET_BEGINNING
    got = consume_until_eof(c, [0])
    c.close()
    check_eq([(m.offset(), m.value()) for m in got], [(i, values[i]) for i in range(6, 10)],
             "records consumed from the beginning")

    # ListOffsets EARLIEST moved; LATEST did not.
    tp0 = TopicPartition(topic, 0)
    earliest = client.list_offsets({tp0: OffsetSpec.earliest()})
    check_eq(next(iter(earliest.values())).result(timeout=30).offset, 6, "earliest offset")
    latest = client.list_offsets({tp0: OffsetSpec.latest()})
    check_eq(next(iter(latest.values())).result(timeout=30).offset, 10, "latest offset")

    # A read below the start is out of range.
    c = consumer(bootstrap)  # auto.offset.reset=error
    assign_from(c, topic, {0: 2})
    deadline = time.monotonic() + 30
    while True:
        check(time.monotonic() < deadline, "no error for a read below the log start")
        msg = c.poll(1.0)
        if msg is None:
            continue
        check(msg.error() is not None, f"read below the log start got a record at {msg.offset()}")
        check_eq(msg.error().code(), KafkaError._AUTO_OFFSET_RESET, f"error ({msg.error()})")
        break
    c.close()

    # Beyond the high watermark: OFFSET_OUT_OF_RANGE. (An unknown partition
    # librdkafka refuses itself, finding no leader: raw_protocol tests it.)
    futures = client.delete_records([TopicPartition(topic, 0, 11)])
    expect_error(next(iter(futures.values())), KafkaError.OFFSET_OUT_OF_RANGE, "beyond the end")
    # -1 (OFFSET_END) means the high watermark: everything goes.
    futures = client.delete_records([TopicPartition(topic, 0, -1)])
    check_eq(next(iter(futures.values())).result(timeout=30).low_watermark, 10,
             "low watermark after delete_records to the end")
    log("ok: delete_records advanced the log start")


# What a Kafka 4.x broker without an authorizer reports.
TOPIC_OPERATIONS = {AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
                    AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS}
CLUSTER_OPERATIONS = {AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE,
                      AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                      AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE}


def describe(bootstrap, topic):
    from confluent_kafka import TopicCollection
    client = admin(bootstrap)
    create_topics(bootstrap, {topic: 3})
    md = client.list_topics(timeout=10)

    cluster = client.describe_cluster(include_authorized_operations=True).result(timeout=30)
    check_eq(cluster.cluster_id, md.cluster_id, "cluster id")
    check_eq(cluster.controller.id, md.controller_id, "controller id")
    check_eq(sorted((n.id, n.host, n.port) for n in cluster.nodes),
             sorted((b.id, b.host, b.port) for b in md.brokers.values()), "brokers")
    check_eq(set(cluster.authorized_operations), CLUSTER_OPERATIONS, "cluster operations")
    again = client.describe_cluster().result(timeout=30)
    check_eq(again.cluster_id, cluster.cluster_id, "cluster id is stable")
    check(not again.authorized_operations, f"operations not asked: {again.authorized_operations}")

    futures = client.describe_topics(TopicCollection([topic]), include_authorized_operations=True)
    desc = futures[topic].result(timeout=30)
    check_eq(len(desc.partitions), 3, "partitions described")
    check_eq(set(desc.authorized_operations), TOPIC_OPERATIONS, "topic operations")
    futures = client.describe_topics(TopicCollection([f"{topic}-missing"]))
    expect_error(futures[f"{topic}-missing"], KafkaError.UNKNOWN_TOPIC_OR_PART, "unknown topic")

    # Leaderless: no election is ever needed.
    from confluent_kafka import ElectionType
    result = client.elect_leaders(ElectionType.PREFERRED,
                                  [TopicPartition(topic, 0)]).result(timeout=30)
    errors = {tp.partition: err.code() if err else None for tp, err in result.items()}
    check_eq(errors, {0: KafkaError.ELECTION_NOT_NEEDED}, "elect_leaders")
    log("ok: describe_cluster, describe_topics and elect_leaders report Kafka's answers")


def kafka_python(bootstrap, topic):
    from kafka.admin import KafkaAdminClient, NewPartitions as KpNewPartitions, NewTopic
    from kafka.structs import TopicPartition as KpTopicPartition
    client = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    client.create_topics([NewTopic(topic, 1, 1)])
    client.create_partitions({topic: KpNewPartitions(3)})
    described = client.describe_topics([topic])
    check_eq(len(described[0]["partitions"]), 3, "kafka-python: partitions after growth")
    produce(bootstrap, topic, 2, [b"a", b"b", b"c"])
    lows = client.delete_records({KpTopicPartition(topic, 2): 2})
    check_eq(lows[KpTopicPartition(topic, 2)]["low_watermark"], 2, "kafka-python: low watermark")
    # (kafka-python's describe_log_dirs speaks only DescribeLogDirs v0, which
    # Kafka 4.x no longer serves, nor does Floe.)
    cluster = client.describe_cluster()
    check(cluster["cluster_id"], f"kafka-python: cluster id in {cluster}")
    check(cluster["brokers"], f"kafka-python: brokers in {cluster}")
    client.close()
    log("ok: kafka-python's admin client grew, trimmed and described")


def group_consumer(bootstrap, topic, group):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "session.timeout.ms": 3000, "heartbeat.interval.ms": 500,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    return c


def session_ok(bootstrap, topic):
    """A group member with a 3 s session timeout joins and consumes."""
    create_topics(bootstrap, {topic: 1})
    produce(bootstrap, topic, 0, [b"x", b"y"])
    c = group_consumer(bootstrap, topic, f"{topic}-group")
    got = []
    deadline = time.monotonic() + 60
    while len(got) < 2:
        check(time.monotonic() < deadline, f"consumed {got} within 60 s")
        msg = c.poll(1.0)
        if msg is None:
            continue
        check(msg.error() is None, f"consumer error: {msg.error()!r}")
        got.append(msg.value())
    c.close()
    check_eq(got, [b"x", b"y"], "records consumed in the group")
    log("ok: a 3 s session timeout is accepted")


def session_refused(bootstrap, topic):
    """Under the default minimum (6 s) a 3 s session timeout is refused."""
    create_topics(bootstrap, {topic: 1})
    c = group_consumer(bootstrap, topic, f"{topic}-group")
    deadline = time.monotonic() + 60
    while True:
        check(time.monotonic() < deadline, "no INVALID_SESSION_TIMEOUT within 60 s")
        msg = c.poll(1.0)
        if msg is None or msg.error() is None:
            continue
        check_eq(msg.error().code(), KafkaError.INVALID_SESSION_TIMEOUT,
                 f"consumer error ({msg.error()})")
        break
    c.close()
    log("ok: a 3 s session timeout is refused under the default minimum")


def main():
    bootstrap, scenario, topic = args(3, "SCENARIO TOPIC")
    scenarios = {"partitions": partitions, "records": records, "describe": describe,
                 "kafka-python": kafka_python, "session-ok": session_ok,
                 "session-refused": session_refused}
    if scenario not in scenarios:
        fail(f"unknown scenario {scenario}")
    scenarios[scenario](bootstrap, topic)


if __name__ == "__main__":
    main()
