"""AdminClient create_topics/delete_topics on an agent with auto-create off.

usage: admin.py BOOTSTRAP PREFIX
"""

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from floe_common import (Deliveries, admin, args, check, check_eq, consumer, create_topics,
                         fail, log, producer)


def topics(client):
    md = client.list_topics(timeout=10)
    return {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}


def expect_error(future, code, what):
    try:
        future.result(timeout=30)
    except KafkaException as e:
        check_eq(e.args[0].code(), code, f"{what}: error code ({e.args[0]})")
        return
    fail(f"{what}: succeeded, expected error {code}")


def main():
    bootstrap, prefix = args(2, "BOOTSTRAP PREFIX")
    a_name, b_name = f"{prefix}-a", f"{prefix}-b"
    client = admin(bootstrap)

    create_topics(bootstrap, {a_name: 3, b_name: 1})
    listed = topics(client)
    check_eq(listed.get(a_name), 3, f"partitions of {a_name}")
    check_eq(listed.get(b_name), 1, f"partitions of {b_name}")

    (future,) = client.create_topics([NewTopic(a_name, 3, 1)], operation_timeout=30).values()
    expect_error(future, KafkaError.TOPIC_ALREADY_EXISTS, f"creating {a_name} again")

    p = producer(bootstrap)
    deliveries = Deliveries()
    p.produce(a_name, value=b"before-delete", partition=2, on_delivery=deliveries.callback(0))
    deliveries.wait(p, 1)
    check_eq(deliveries.items[0], (2, 0), "delivery to partition 2")

    (future,) = client.delete_topics([a_name], operation_timeout=30).values()
    try:
        future.result(timeout=30)
    except Exception as e:  # noqa: BLE001
        fail(f"delete_topics({a_name}) failed: {e!r}")
    listed = topics(client)
    check(a_name not in listed, f"{a_name} still listed after delete: {listed}")
    check_eq(listed.get(b_name), 1, f"{b_name} after deleting {a_name}")

    (future,) = client.delete_topics([a_name], operation_timeout=30).values()
    expect_error(future, KafkaError.UNKNOWN_TOPIC_OR_PART, f"deleting {a_name} again")

    # A topic re-created under the same name starts empty.
    create_topics(bootstrap, {a_name: 2})
    check_eq(topics(client).get(a_name), 2, f"partitions of re-created {a_name}")
    c = consumer(bootstrap)
    for part in range(2):
        check_eq(c.get_watermark_offsets(TopicPartition(a_name, part), timeout=10, cached=False),
                 (0, 0), f"watermarks of re-created {a_name} partition {part}")
    c.close()
    log("ok: create_topics, delete_topics")


if __name__ == "__main__":
    main()
