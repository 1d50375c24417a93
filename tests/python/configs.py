"""Topic and broker configs through confluent-kafka's AdminClient, and the
configs the agent honours: describe, alter, incremental alter, create with
bad configs, LogAppendTime seen by a consumer, max.message.bytes refused,
an altered retention.ms applied.

usage: configs.py BOOTSTRAP PREFIX
"""

import time

from confluent_kafka import (KafkaError, KafkaException, TIMESTAMP_LOG_APPEND_TIME,
                             TopicPartition)
from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource,
                                   ConfigSource, NewTopic, ResourceType)

from floe_common import (Deliveries, admin, args, check, check_eq, consumer, create_topics,
                         fail, log, producer)


def source(entry):
    """The entry's source id, whether the client gives an enum or an int."""
    return getattr(entry.source, "value", entry.source)


def error_of(future):
    try:
        future.result(timeout=30)
    except KafkaException as e:
        return e.args[0]
    return None


def expect_error(future, code, what, text=None):
    err = error_of(future)
    check(err is not None, f"{what}: succeeded, expected error {code}")
    check_eq(err.code(), code, f"{what}: error code ({err})")
    if text is not None:
        check(text in err.str(), f"{what}: message {err.str()!r} lacks {text!r}")


def describe(client, topic):
    resource = ConfigResource(ResourceType.TOPIC, topic)
    (future,) = client.describe_configs([resource]).values()
    return future.result(timeout=30)


def create_with(client, name, config, partitions=1):
    (future,) = client.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)],
        operation_timeout=30).values()
    return future


def incremental(client, topic, entries):
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    (future,) = client.incremental_alter_configs([resource]).values()
    return future


def check_describe(client, topic):
    configs = describe(client, topic)
    check(len(configs) >= 30, f"every topic config described, got {len(configs)}")
    retention = configs["retention.ms"]
    check_eq(retention.value, "3600000", "retention.ms set at creation")
    check_eq(source(retention), ConfigSource.DYNAMIC_TOPIC_CONFIG.value, "retention.ms source")
    check(not retention.is_default, "retention.ms is not a default")
    check(not retention.is_read_only, "topic configs are not read-only")
    # As Kafka: log.retention.ms has no default of its own, so no synonym.
    check_eq(list(retention.synonyms), ["retention.ms"], "retention.ms synonyms")
    max_bytes = configs["max.message.bytes"]
    check_eq(max_bytes.value, "1048588", "max.message.bytes default")
    check_eq(source(max_bytes), ConfigSource.DEFAULT_CONFIG.value, "max.message.bytes source")
    check(max_bytes.is_default, "max.message.bytes is a default")
    check_eq(list(max_bytes.synonyms), ["message.max.bytes"], "max.message.bytes synonyms")
    check_eq(configs["cleanup.policy"].value, "delete", "cleanup.policy default")
    check_eq(configs["message.timestamp.type"].value, "CreateTime", "timestamp type default")
    check_eq(configs["min.insync.replicas"].value, "1", "min.insync.replicas default")


def check_alter(client, topic):
    # SET, then DELETE back to the default.
    future = incremental(client, topic, [
        ConfigEntry("max.message.bytes", "5000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
    ])
    check(error_of(future) is None, f"incremental SET/DELETE failed: {error_of(future)}")
    configs = describe(client, topic)
    check_eq(configs["max.message.bytes"].value, "5000", "max.message.bytes after SET")
    check_eq(source(configs["max.message.bytes"]), ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
             "source after SET")
    check_eq(source(configs["retention.ms"]), ConfigSource.DEFAULT_CONFIG.value,
             "retention.ms after DELETE")

    # APPEND and SUBTRACT on a list config.
    name = "leader.replication.throttled.replicas"
    for op, value, expected in [(AlterConfigOpType.APPEND, "0:1", "0:1"),
                                (AlterConfigOpType.APPEND, "1:2,0:1", "0:1,1:2"),
                                (AlterConfigOpType.SUBTRACT, "0:1", "1:2")]:
        future = incremental(client, topic, [ConfigEntry(name, value, incremental_operation=op)])
        check(error_of(future) is None, f"{op} {value}: {error_of(future)}")
        check_eq(describe(client, topic)[name].value, expected, f"{name} after {op} {value}")
    expect_error(incremental(client, topic, [ConfigEntry(
        "retention.ms", "5", incremental_operation=AlterConfigOpType.APPEND)]),
        KafkaError.INVALID_CONFIG, "APPEND to a LONG", "because its type is not LIST")

    # Unknown names, bad values and unknown topics.
    expect_error(incremental(client, topic, [ConfigEntry(
        "made.up", "1", incremental_operation=AlterConfigOpType.SET)]),
        KafkaError.INVALID_CONFIG, "unknown name", "Unknown topic config name: made.up")
    expect_error(incremental(client, topic, [ConfigEntry(
        "retention.ms", "soon", incremental_operation=AlterConfigOpType.SET)]),
        KafkaError.INVALID_CONFIG, "bad value",
        "Invalid value soon for configuration retention.ms")
    expect_error(incremental(client, topic, [ConfigEntry(
        "cleanup.policy", "compact,shred", incremental_operation=AlterConfigOpType.SET)]),
        KafkaError.INVALID_CONFIG, "an unknown cleanup policy",
        "Invalid value shred for configuration cleanup.policy")
    expect_error(incremental(client, topic + "-missing", [ConfigEntry(
        "retention.ms", "5", incremental_operation=AlterConfigOpType.SET)]),
        KafkaError.UNKNOWN_TOPIC_OR_PART, "unknown topic")
    check_eq(describe(client, topic)["max.message.bytes"].value, "5000",
             "a refused alter changes nothing")

    # validate_only checks and changes nothing.
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[ConfigEntry(
        "max.message.bytes", "6000", incremental_operation=AlterConfigOpType.SET)])
    (future,) = client.incremental_alter_configs([resource], validate_only=True).values()
    check(error_of(future) is None, "validate_only alter")
    check_eq(describe(client, topic)["max.message.bytes"].value, "5000", "after validate_only")

    # The legacy AlterConfigs replaces the whole set.
    resource = ConfigResource(ResourceType.TOPIC, topic, set_config={"segment.ms": "100000"})
    (future,) = client.alter_configs([resource]).values()
    check(error_of(future) is None, f"alter_configs: {error_of(future)}")
    configs = describe(client, topic)
    check_eq(configs["segment.ms"].value, "100000", "segment.ms after alter_configs")
    check_eq(configs["max.message.bytes"].value, "1048588",
             "alter_configs dropped the overrides it did not name")


def check_broker(client):
    metadata = client.list_topics(timeout=10)
    node = metadata.controller_id
    resource = ConfigResource(ResourceType.BROKER, str(node))
    (future,) = client.describe_configs([resource]).values()
    configs = future.result(timeout=30)
    check_eq(configs["node.id"].value, str(node), "node.id")
    check_eq(configs["num.partitions"].value, "1", "num.partitions")
    check(configs["num.partitions"].is_read_only, "broker configs are read-only")
    check("floe.flush.interval.ms" in configs, "Floe's own settings are described")
    resource = ConfigResource(ResourceType.BROKER, str(node), incremental_configs=[ConfigEntry(
        "num.partitions", "3", incremental_operation=AlterConfigOpType.SET)])
    (future,) = client.incremental_alter_configs([resource]).values()
    expect_error(future, KafkaError.INVALID_REQUEST, "altering a static broker config",
                 "Cannot update these configs dynamically")


def check_create(client, prefix):
    expect_error(create_with(client, f"{prefix}-bad-name", {"made.up": "1"}),
                 KafkaError.INVALID_CONFIG, "create with an unknown config",
                 "Unknown topic config name: made.up")
    expect_error(create_with(client, f"{prefix}-bad-value", {"retention.ms": "-7"}),
                 KafkaError.INVALID_CONFIG, "create with a bad value", "Value must be at least -1")
    names = client.list_topics(timeout=10).topics
    check(not any(n.startswith(f"{prefix}-bad") for n in names),
          "a refused create creates nothing")
    # Compacted topics are taken (the log cleaner honours them).
    compacted = f"{prefix}-compact"
    check(error_of(create_with(client, compacted, {"cleanup.policy": "compact,delete"})) is None,
          "create a compact,delete topic")
    check_eq(describe(client, compacted)["cleanup.policy"].value, "compact,delete",
             "cleanup.policy of the compacted topic")


def check_log_append_time(bootstrap, client, prefix):
    topic = f"{prefix}-lat"
    check(error_of(create_with(client, topic, {"message.timestamp.type": "LogAppendTime"}))
          is None, "create LogAppendTime topic")
    before = int(time.time() * 1000)
    p = producer(bootstrap)
    deliveries = Deliveries()
    for i in range(3):
        p.produce(topic, value=f"v{i}".encode(), timestamp=1_000 + i,
                  on_delivery=deliveries.callback(i))
    deliveries.wait(p, 3)
    after = int(time.time() * 1000)
    c = consumer(bootstrap)
    c.assign([TopicPartition(topic, 0, 0)])
    seen = []
    deadline = time.time() + 60
    while len(seen) < 3 and time.time() < deadline:
        msg = c.poll(1)
        if msg is None or msg.error():
            continue
        seen.append(msg)
    c.close()
    check_eq(len(seen), 3, "records consumed")
    for msg in seen:
        kind, ts = msg.timestamp()
        check_eq(kind, TIMESTAMP_LOG_APPEND_TIME, "timestamp type seen by the consumer")
        check(before <= ts <= after, f"append time {ts} not within [{before}, {after}]")


def check_max_message_bytes(bootstrap, client, prefix):
    topic = f"{prefix}-small"
    check(error_of(create_with(client, topic, {"max.message.bytes": "2000"}, partitions=2))
          is None, "create small-batch topic")
    p = producer(bootstrap, **{"linger.ms": 0, "compression.type": "none"})
    deliveries = Deliveries()
    p.produce(topic, value=b"x" * 5000, partition=0, on_delivery=deliveries.callback(0))
    p.produce(topic, value=b"ok", partition=1, on_delivery=deliveries.callback(1))
    check_eq(p.flush(60), 0, "messages undelivered after 60s")
    errors = {i: e.code() for i, e in deliveries.errors}
    check_eq(errors.get(0), KafkaError.MSG_SIZE_TOO_LARGE,
             f"the large batch is refused ({deliveries.errors})")
    check_eq(deliveries.items.get(1), (1, 0), "the other partition's batch is taken")


def check_retention(bootstrap, client, prefix):
    topic = f"{prefix}-retention"
    create_topics(bootstrap, {topic: 1})
    p = producer(bootstrap)
    deliveries = Deliveries()
    old = int(time.time() * 1000) - 600_000
    for i in range(2):
        p.produce(topic, value=b"old", timestamp=old, on_delivery=deliveries.callback(i))
    deliveries.wait(p, 2)
    c = consumer(bootstrap)
    tp = TopicPartition(topic, 0)
    check_eq(c.get_watermark_offsets(tp, timeout=10), (0, 2), "kept without retention")
    future = incremental(client, topic, [ConfigEntry(
        "retention.ms", "60000", incremental_operation=AlterConfigOpType.SET)])
    check(error_of(future) is None, "set retention.ms")
    deadline = time.time() + 60
    while time.time() < deadline:
        if c.get_watermark_offsets(tp, timeout=10) == (2, 2):
            break
        time.sleep(0.2)
    else:
        fail(f"altered retention.ms not applied: {c.get_watermark_offsets(tp, timeout=10)}")
    c.close()


def main():
    bootstrap, prefix = args(2, "BOOTSTRAP PREFIX")
    client = admin(bootstrap)
    topic = f"{prefix}-described"
    future = create_with(client, topic, {"retention.ms": "3600000"}, partitions=2)
    check(error_of(future) is None, f"create {topic}: {error_of(future)}")
    check_describe(client, topic)
    check_alter(client, topic)
    check_broker(client)
    check_create(client, prefix)
    check_log_append_time(bootstrap, client, prefix)
    check_max_message_bytes(bootstrap, client, prefix)
    check_retention(bootstrap, client, prefix)
    log("configs ok")


if __name__ == "__main__":
    main()
