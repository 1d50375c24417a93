"""ListOffsets as librdkafka users see it: watermarks (earliest/latest),
offsets_for_times (exact record offsets, inside batches too), and AdminClient
list_offsets with earliest, latest and max-timestamp specs.

Partition 0: 10 records in two batches, timestamps T0 + i*1000.
Partition 1: 3 records in one batch, timestamps T0+5000, T0+9000, T0+7000.
Partition 2: empty.

usage: list_offsets.py BOOTSTRAP TOPIC
"""

import time

from confluent_kafka import TopicPartition
from confluent_kafka.admin import OffsetSpec

from floe_common import Deliveries, admin, args, check_eq, create_topics, consumer, log, producer

NOT_FOUND = -1  # librdkafka's answer when no record has a timestamp >= the target


def produce_batch(p, topic, partition, timestamps, label):
    deliveries = Deliveries()
    for i, ts in enumerate(timestamps):
        p.produce(topic, value=f"{label}{i}".encode(), partition=partition, timestamp=ts,
                  on_delivery=deliveries.callback(i))
    deliveries.wait(p, len(timestamps))


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    create_topics(bootstrap, {topic: 3})
    t0 = (int(time.time()) - 3600) * 1000

    p = producer(bootstrap, **{"linger.ms": 200})
    produce_batch(p, topic, 0, [t0 + i * 1000 for i in range(5)], "a")
    produce_batch(p, topic, 0, [t0 + i * 1000 for i in range(5, 10)], "b")
    produce_batch(p, topic, 1, [t0 + 5000, t0 + 9000, t0 + 7000], "c")

    c = consumer(bootstrap)
    for part, expected in [(0, (0, 10)), (1, (0, 3)), (2, (0, 0))]:
        got = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10, cached=False)
        check_eq(got, expected, f"watermarks (earliest, latest) of partition {part}")

    cases = [
        (0, t0 - 1, 0),
        (0, t0, 0),
        (0, t0 + 3000, 3),
        (0, t0 + 3500, 4),  # inside the first batch
        (0, t0 + 4001, 5),  # between batches
        (0, t0 + 5000, 5),
        (0, t0 + 7000, 7),  # inside the second batch
        (0, t0 + 9000, 9),
        (0, t0 + 9001, NOT_FOUND),
        (1, t0 + 6000, 1),  # first record with timestamp >= target
        (1, t0 + 8000, 1),
        (1, t0 + 9001, NOT_FOUND),
        (2, t0, NOT_FOUND),
    ]
    for part, ts, expected in cases:
        result = c.offsets_for_times([TopicPartition(topic, part, ts)], timeout=10)
        check_eq(len(result), 1, "offsets_for_times result count")
        if result[0].error is not None:
            check_eq(result[0].error, None, f"offsets_for_times error (p{part}, T0+{ts - t0})")
        check_eq(result[0].offset, expected, f"offsets_for_times(partition {part}, T0+{ts - t0})")
    c.close()

    a = admin(bootstrap)
    specs = [
        (0, OffsetSpec.earliest(), 0, None),
        (0, OffsetSpec.latest(), 10, None),
        (1, OffsetSpec.latest(), 3, None),
        (2, OffsetSpec.latest(), 0, None),
        (0, OffsetSpec.max_timestamp(), 9, t0 + 9000),
        (1, OffsetSpec.max_timestamp(), 1, t0 + 9000),
    ]
    for part, spec, offset, timestamp in specs:
        futures = a.list_offsets({TopicPartition(topic, part): spec}, request_timeout=10)
        (info,) = [f.result(timeout=30) for f in futures.values()]
        check_eq(info.offset, offset, f"list_offsets({spec}) offset of partition {part}")
        if timestamp is not None:
            check_eq(info.timestamp, timestamp, f"list_offsets({spec}) timestamp of partition {part}")
    log("ok: watermarks, offsets_for_times and list_offsets")


if __name__ == "__main__":
    main()
