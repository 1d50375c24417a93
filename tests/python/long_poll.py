"""Long polling: a consumer waiting with fetch.wait.max.ms=10000 on an empty
partition gets a record produced 2 s later within 5 s of its production (not only
when the 10 s wait runs out).

usage: long_poll.py BOOTSTRAP TOPIC
"""

import time

from floe_common import (KafkaError, args, assign_from, check, check_eq, consumer,
                         create_topics, fail, log, producer)

BOUND_S = 5.0


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    create_topics(bootstrap, {topic: 1})
    c = consumer(bootstrap, **{"fetch.wait.max.ms": 10000, "fetch.min.bytes": 1,
                               "enable.partition.eof": False})
    assign_from(c, topic, {0: 0})

    # Let the consumer start its (long) fetch on the empty partition.
    settle_until = time.monotonic() + 2.0
    while time.monotonic() < settle_until:
        msg = c.poll(0.2)
        if msg is not None:
            fail(f"got something from an empty partition: {msg.error() or msg.value()!r}")

    p = producer(bootstrap)
    produced_at = time.monotonic()
    p.produce(topic, value=b"wake-up", partition=0)
    check_eq(p.flush(30), 0, "undelivered messages")
    acked_after = time.monotonic() - produced_at

    deadline = produced_at + 15.0
    while True:
        msg = c.poll(0.05)
        now = time.monotonic()
        if msg is not None:
            if msg.error() and msg.error().code() != KafkaError._PARTITION_EOF:
                fail(f"consumer error: {msg.error()!r}")
            if not msg.error():
                break
        if now > deadline:
            fail("record not received within 15 s of its production")
    latency = now - produced_at
    c.close()
    check_eq((msg.offset(), msg.value()), (0, b"wake-up"), "received record")
    log(f"produce acknowledged after {acked_after:.3f}s, received after {latency:.3f}s")
    check(latency < BOUND_S,
          f"record received {latency:.1f}s after production; a waiting fetch must be woken "
          f"by new data (bound {BOUND_S}s, fetch.wait.max.ms=10000)")
    log("ok: long poll woke up on new data")


if __name__ == "__main__":
    main()
