"""A consumer of many partitions reads every record exactly once, in order
per partition, while records keep arriving: with confluent-kafka
(librdkafka: sessionless fetches) or kafka-python (incremental fetch
sessions, KIP-227).

usage: many_partitions.py BOOTSTRAP TOPIC CLIENT PARTITIONS COUNT
CLIENT is confluent or kafka-python. Half the records are produced before
the consumer starts, half while it reads.
"""

import sys
import threading
import time

from floe_common import fail


def produce(bootstrap, topic, partitions, start, end):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    errors = []
    for i in range(start, end):
        producer.produce(topic, value=f"v{i}".encode(), partition=i % partitions,
                         on_delivery=lambda err, _msg: err and errors.append(err))
        producer.poll(0)
    if producer.flush(60) != 0 or errors:
        fail(f"produce {start}..{end}: {errors[:3]} (unflushed or failed)")


def consume_confluent(bootstrap, topic, count, seen):
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic + "-g",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    deadline = time.time() + 120
    while len(seen) < count and time.time() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            fail(f"consumer error: {msg.error()}")
        seen.append((msg.partition(), msg.offset(), msg.value().decode()))
    consumer.close()


def consume_kafka_python(bootstrap, topic, count, seen):
    from kafka import KafkaConsumer
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic + "-g",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             fetch_max_wait_ms=200)
    deadline = time.time() + 120
    while len(seen) < count and time.time() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            for msg in records:
                seen.append((msg.partition, msg.offset, msg.value.decode()))
    consumer.close()


def main():
    if len(sys.argv) != 6:
        fail("usage: many_partitions.py BOOTSTRAP TOPIC CLIENT PARTITIONS COUNT")
    bootstrap, topic, client = sys.argv[1:4]
    partitions, count = int(sys.argv[4]), int(sys.argv[5])
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)

    produce(bootstrap, topic, partitions, 0, count // 2)
    seen = []
    consume = {"confluent": consume_confluent, "kafka-python": consume_kafka_python}[client]
    reader = threading.Thread(target=consume, args=(bootstrap, topic, count, seen))
    reader.start()
    time.sleep(1)
    produce(bootstrap, topic, partitions, count // 2, count)
    reader.join()

    values = [v for _, _, v in seen]
    if sorted(values) != sorted(f"v{i}" for i in range(count)):
        missing = {f"v{i}" for i in range(count)} - set(values)
        fail(f"{client}: read {len(values)} records ({len(set(values))} distinct) of {count}; "
             f"missing e.g. {sorted(missing)[:5]}")
    for p in range(partitions):
        offsets = [o for part, o, _ in seen if part == p]
        if offsets != list(range(len(offsets))):
            fail(f"{client}: partition {p} offsets {offsets[:10]}... not contiguous from 0")
    print(f"{client}: {count} records over {partitions} partitions read exactly once")


if __name__ == "__main__":
    main()
