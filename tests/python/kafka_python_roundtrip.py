"""kafka-python (its own wire codec, pure Python): keyed records with headers to two
partitions come back identical with offsets contiguous from 0.

usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC
"""

import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def check_eq(actual, expected, what):
    if actual != expected:
        fail(f"{what}: expected {expected!r}, got {actual!r}")


COUNT = 100
BASE_TS = 1_700_000_000_000


def main():
    if len(sys.argv) != 3:
        fail("usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC")
    bootstrap, topic = sys.argv[1:]

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    admin.close()

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=10)
    futures = []
    for i in range(COUNT):
        futures.append(producer.send(
            topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 2,
            headers=[("i", str(i).encode())], timestamp_ms=BASE_TS + i))
    producer.flush(60)
    acked = [f.get(timeout=60) for f in futures]
    producer.close()
    for part in range(2):
        check_eq([m.offset for i, m in enumerate(acked) if i % 2 == part],
                 list(range(COUNT // 2)), f"acknowledged offsets of partition {part}")

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=15000)
    partitions = [TopicPartition(topic, p) for p in range(2)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    got = {0: [], 1: []}
    for msg in consumer:
        got[msg.partition].append(msg)
        if sum(len(v) for v in got.values()) == COUNT:
            break
    consumer.close()
    for part in range(2):
        wanted = [i for i in range(COUNT) if i % 2 == part]
        msgs = got[part]
        check_eq([m.offset for m in msgs], list(range(len(wanted))),
                 f"consumed offsets of partition {part}")
        for m, i in zip(msgs, wanted):
            check_eq((m.key, m.value, list(m.headers), m.timestamp),
                     (f"k{i}".encode(), f"v{i}".encode(), [("i", str(i).encode())], BASE_TS + i),
                     f"record {i}")
    print(f"ok: kafka-python round-tripped {COUNT} records", flush=True)


if __name__ == "__main__":
    main()
