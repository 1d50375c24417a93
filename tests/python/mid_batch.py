"""A consumer assigned at an offset in the middle of a batch gets that record first.
Ten records go out in one batch (long linger); the consumer starts at offset 5 and
must see exactly records 5..9.

usage: mid_batch.py BOOTSTRAP TOPIC
"""

from floe_common import (Deliveries, args, assign_from, check_eq, consumer, consume_until_eof,
                         create_topics, log, producer)


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    create_topics(bootstrap, {topic: 1})
    p = producer(bootstrap, **{"linger.ms": 2000, "batch.num.messages": 10000})
    deliveries = Deliveries()
    for i in range(10):
        p.produce(topic, key=f"k{i}".encode(), value=f"m{i}".encode(), partition=0,
                  on_delivery=deliveries.callback(i))
    deliveries.wait(p, 10)
    check_eq([deliveries.items[i][1] for i in range(10)], list(range(10)),
             "acknowledged offsets")

    c = consumer(bootstrap)
    assign_from(c, topic, {0: 5})
    messages = consume_until_eof(c, [0])
    c.close()
    check_eq([(m.offset(), m.value()) for m in messages],
             [(i, f"m{i}".encode()) for i in range(5, 10)],
             "records consumed from offset 5")
    log("ok: consumer started mid-batch at offset 5 and got records 5..9")


if __name__ == "__main__":
    main()
