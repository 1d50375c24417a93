"""An idempotent producer (enable.idempotence=true: InitProducerId, sequence numbers)
writes every record exactly once, offsets contiguous from 0 in each partition.

usage: idempotent.py BOOTSTRAP TOPIC
"""

from confluent_kafka import OFFSET_BEGINNING

from floe_common import (Deliveries, args, assign_from, by_partition, check_eq, consumer,
                         consume_until_eof, create_topics, log, producer)

PARTITIONS = 2
COUNT = 1000


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    create_topics(bootstrap, {topic: PARTITIONS})
    p = producer(bootstrap, **{"enable.idempotence": True, "linger.ms": 5,
                               "batch.num.messages": 50})
    deliveries = Deliveries()
    for i in range(COUNT):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                  partition=i % PARTITIONS, on_delivery=deliveries.callback(i))
        p.poll(0)
    deliveries.wait(p, COUNT)

    c = consumer(bootstrap)
    assign_from(c, topic, {part: OFFSET_BEGINNING for part in range(PARTITIONS)})
    messages = consume_until_eof(c, range(PARTITIONS))
    c.close()
    check_eq(len(messages), COUNT, "number of consumed messages")
    for part, msgs in sorted(by_partition(messages).items()):
        wanted = [i for i in range(COUNT) if i % PARTITIONS == part]
        check_eq([(m.offset(), m.value()) for m in msgs],
                 [(n, f"v{i}".encode()) for n, i in enumerate(wanted)],
                 f"records of partition {part}")
        check_eq([deliveries.items[i] for i in wanted],
                 [(part, n) for n in range(len(wanted))],
                 f"acknowledged offsets of partition {part}")
    log(f"ok: idempotent producer wrote {COUNT} records exactly once")


if __name__ == "__main__":
    main()
