"""Records produced with each compression codec (gzip, snappy, lz4, zstd) come back
identical. Topic `PREFIX-CODEC` gets 200 records in partition 0 for each codec.

usage: compression.py BOOTSTRAP PREFIX
"""

from confluent_kafka import OFFSET_BEGINNING

from floe_common import (Deliveries, args, assign_from, check_eq, consumer, consume_until_eof,
                         create_topics, log, producer)

CODECS = ["gzip", "snappy", "lz4", "zstd"]
COUNT = 200


def value(codec, i):
    # Compressible, and different per codec and record.
    return f"{codec}:{i}:".encode() + b"abcdefgh" * (10 + i % 40)


def main():
    bootstrap, prefix = args(2, "BOOTSTRAP PREFIX")
    create_topics(bootstrap, {f"{prefix}-{codec}": 1 for codec in CODECS})
    for codec in CODECS:
        topic = f"{prefix}-{codec}"
        p = producer(bootstrap, **{"compression.type": codec, "linger.ms": 100})
        deliveries = Deliveries()
        for i in range(COUNT):
            p.produce(topic, key=f"k{i}".encode(), value=value(codec, i), partition=0,
                      on_delivery=deliveries.callback(i))
            p.poll(0)
        deliveries.wait(p, COUNT)
        check_eq(sorted(o for (_, o) in deliveries.items.values()), list(range(COUNT)),
                 f"{codec}: acknowledged offsets")

        c = consumer(bootstrap)
        assign_from(c, topic, {0: OFFSET_BEGINNING})
        messages = consume_until_eof(c, [0])
        c.close()
        check_eq([m.offset() for m in messages], list(range(COUNT)), f"{codec}: offsets")
        for i, m in enumerate(messages):
            check_eq(m.key(), f"k{i}".encode(), f"{codec}: key of record {i}")
            check_eq(m.value(), value(codec, i), f"{codec}: value of record {i}")
        log(f"ok: {codec}: {COUNT} records round-tripped")


if __name__ == "__main__":
    main()
