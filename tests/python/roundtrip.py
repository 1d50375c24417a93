"""Keyed records with headers and explicit timestamps, spread over four partitions,
come back identical: value, key, headers, timestamp, per-partition order, offsets
contiguous from 0, and nothing else.

usage: roundtrip.py BOOTSTRAP TOPIC
"""

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME

from floe_common import (Deliveries, args, assign_from, by_partition, check_eq, consumer,
                         consume_until_eof, create_topics, log, producer)

PARTITIONS = 4
COUNT = 400
BASE_TS = 1_700_000_000_000


def expected_record(i):
    key = None if i == 11 else f"key-{i}".encode()
    value = None if i == 7 else (f"value-{i}-" + "x" * (i % 50)).encode()
    headers = [("seq", str(i).encode()), ("parity", b"even" if i % 2 == 0 else b"odd")]
    if i % 10 == 0:
        headers.append(("nullable", None))
    if i % 3 == 0:
        headers += [("dup", b"first"), ("dup", b"second"), ("empty", b"")]
    if i == 5:
        headers = []
    return {
        "partition": i % PARTITIONS,
        "key": key,
        "value": value,
        "headers": headers,
        "timestamp": BASE_TS + i * 1000 + (i % 7),
    }


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    create_topics(bootstrap, {topic: PARTITIONS})

    expected = [expected_record(i) for i in range(COUNT)]
    p = producer(bootstrap, **{"linger.ms": 20})
    deliveries = Deliveries()
    for i, r in enumerate(expected):
        p.produce(topic, value=r["value"], key=r["key"], partition=r["partition"],
                  headers=r["headers"] or None, timestamp=r["timestamp"],
                  on_delivery=deliveries.callback(i))
        p.poll(0)
    deliveries.wait(p, COUNT)

    # The offsets the producer was told: contiguous from 0 per partition, in order.
    for part in range(PARTITIONS):
        produced = [deliveries.items[i] for i in range(COUNT) if i % PARTITIONS == part]
        check_eq([o for (_, o) in produced], list(range(len(produced))),
                 f"acknowledged offsets of partition {part}")

    c = consumer(bootstrap)
    assign_from(c, topic, {part: OFFSET_BEGINNING for part in range(PARTITIONS)})
    messages = consume_until_eof(c, range(PARTITIONS))
    c.close()
    check_eq(len(messages), COUNT, "number of consumed messages")

    for part, msgs in sorted(by_partition(messages).items()):
        wanted = [i for i in range(COUNT) if i % PARTITIONS == part]
        check_eq([m.offset() for m in msgs], list(range(len(wanted))),
                 f"consumed offsets of partition {part}")
        for m, i in zip(msgs, wanted):
            r = expected[i]
            what = f"record {i} (partition {part} offset {m.offset()})"
            check_eq(m.key(), r["key"], f"{what} key")
            check_eq(m.value(), r["value"], f"{what} value")
            check_eq(m.headers() or [], r["headers"], f"{what} headers")
            check_eq(m.timestamp(), (TIMESTAMP_CREATE_TIME, r["timestamp"]),
                     f"{what} timestamp")
    log(f"ok: {COUNT} records over {PARTITIONS} partitions round-tripped")


if __name__ == "__main__":
    main()
