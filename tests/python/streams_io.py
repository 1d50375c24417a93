"""Input and output of the Kafka Streams word count (tests/streams/WordCount.java).

Usage:
  streams_io.py BOOTSTRAP create INPUT OUTPUT
      creates the input and output topics, PARTITIONS partitions each.
  streams_io.py BOOTSTRAP produce INPUT LINES
      writes LINES lines of words (a fixed, uneven distribution: see `line`) to
      INPUT in small bursts, so the application is mid-run while they arrive;
      prints `PRODUCED <n>` after each burst.
  streams_io.py BOOTSTRAP wait OUTPUT LINES
      reads OUTPUT at read_committed until the latest count of every word is at
      least the count the input holds (or fails after a while).
  streams_io.py BOOTSTRAP verify OUTPUT LINES
      reads OUTPUT at read_committed to its end and checks that the latest count of
      every word equals, exactly, the count computed from the input, and that there
      is exactly one committed count update per word of the input (the record cache
      is off, so each word read once yields one update: a word processed twice would
      show as an extra update even where the final count came out right); prints one
      JSON line with the number of words and of count updates read (and of updates
      at read_uncommitted, aborted ones included).
"""

import json
import struct
import sys
import time
import uuid
from collections import Counter

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource,
                                  ResourceType)

from floe_common import admin, check, check_eq, create_topics, fail, log

PARTITIONS = 2
BURST = 100
BURST_PAUSE_S = 0.15
WAIT_TIMEOUT_S = 120.0


def line(i):
    """Line i: five words from a vocabulary of 41, chosen so counts differ per word."""
    return " ".join(f"w{(i * 7 + j * j * 13 + (i // 3)) % 41}" for j in range(5))


def expected_counts(lines):
    counts = Counter()
    for i in range(lines):
        counts.update(line(i).split(" "))
    return dict(counts)


def produce(bootstrap, topic, lines):
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": 5})
    errors = []
    for start in range(0, lines, BURST):
        for i in range(start, min(start + BURST, lines)):
            producer.produce(topic, key=str(i).encode(), value=line(i).encode(),
                             on_delivery=lambda err, _m: err and errors.append(err))
        check(producer.flush(30) == 0, "produce: records not delivered")
        check(not errors, f"produce: delivery errors {errors}")
        log(f"PRODUCED {min(start + BURST, lines)}")
        time.sleep(BURST_PAUSE_S)


def partitions_of(consumer, topic):
    metadata = consumer.list_topics(topic, timeout=30)
    check(topic in metadata.topics and metadata.topics[topic].error is None,
          f"no topic {topic}")
    return sorted(metadata.topics[topic].partitions)


def latest_counts(bootstrap, topic, stop, isolation="read_committed"):
    """Reads `topic` at `isolation` from the beginning; returns (the latest count per
    word, the number of updates read) once every partition is at its end and
    `stop(latest)` holds, or fails after WAIT_TIMEOUT_S."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"streams-verify-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "isolation.level": isolation,
        "enable.partition.eof": True,
    })
    try:
        parts = partitions_of(consumer, topic)
        consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        latest = {}
        updates = 0
        at_end = set()
        deadline = time.monotonic() + WAIT_TIMEOUT_S
        while True:
            if time.monotonic() > deadline:
                fail(f"{topic}: counts not reached in {WAIT_TIMEOUT_S} s; latest {latest}")
            msg = consumer.poll(0.5)
            if msg is None:
                if len(at_end) == len(parts) and stop(latest):
                    return latest, updates
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    if len(at_end) == len(parts) and stop(latest):
                        return latest, updates
                    continue
                fail(f"{topic}: consume error {msg.error()}")
            at_end.discard(msg.partition())
            check(len(msg.value()) == 8, f"{topic}: a count of {len(msg.value())} bytes")
            latest[msg.key().decode()] = struct.unpack(">q", msg.value())[0]
            updates += 1
    finally:
        consumer.close()


def changelog_compacted(bootstrap, topic, words):
    """Waits until the compacted changelog `topic`, read from the beginning at
    read_uncommitted (so aborted records count too), holds exactly one record of
    each of `words`: the log cleaner compacted the transactional changelog and
    removed its aborted records. Returns the records read at the first look.

    The changelog is first made due at any dirt (min.cleanable.dirty.ratio=0.01,
    Kafka's default 0.5 could leave the last writes uncleaned)."""
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("min.cleanable.dirty.ratio", "0.01",
                    incremental_operation=AlterConfigOpType.SET)])
    client = admin(bootstrap)
    (future,) = client.incremental_alter_configs([resource]).values()
    future.result(timeout=30)
    first = None
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while True:
        consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": f"streams-changelog-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "isolation.level": "read_uncommitted",
            "enable.partition.eof": True,
        })
        try:
            parts = partitions_of(consumer, topic)
            consumer.assign([TopicPartition(topic, p, 0) for p in parts])
            per_key = {}
            at_end = set()
            while len(at_end) < len(parts):
                if time.monotonic() > deadline:
                    fail(f"{topic}: not read to its end in {WAIT_TIMEOUT_S} s")
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        at_end.add(msg.partition())
                        continue
                    fail(f"{topic}: consume error {msg.error()}")
                at_end.discard(msg.partition())
                key = msg.key().decode()
                per_key[key] = per_key.get(key, 0) + 1
        finally:
            consumer.close()
        records = sum(per_key.values())
        if first is None:
            first = records
        check_eq(sorted(per_key), sorted(words), f"{topic}: words in the changelog")
        if records == len(words):
            return first
        if time.monotonic() > deadline:
            fail(f"{topic}: {records} records for {len(words)} words after "
                 f"{WAIT_TIMEOUT_S} s; the cleaner did not compact it")
        time.sleep(1.0)


def main():
    argv = sys.argv[1:]
    if len(argv) == 4 and argv[1] == "create":
        create_topics(argv[0], {argv[2]: PARTITIONS, argv[3]: PARTITIONS})
        return
    if len(argv) != 4 or argv[1] not in ("produce", "wait", "verify", "changelog"):
        fail(f"usage: {sys.argv[0]} BOOTSTRAP create|produce|wait|verify|changelog TOPIC "
             "[TOPIC|LINES]")
    bootstrap, mode, topic, lines = argv[0], argv[1], argv[2], int(argv[3])
    if mode == "produce":
        produce(bootstrap, topic, lines)
        return
    expected = expected_counts(lines)
    if mode == "changelog":
        first = changelog_compacted(bootstrap, topic, list(expected))
        print(json.dumps({"changelog_records_first_read": first,
                          "changelog_records_compacted": len(expected)}), flush=True)
        return
    if mode == "wait":
        def reached(latest):
            return all(latest.get(w, 0) >= n for w, n in expected.items())
        latest_counts(bootstrap, topic, reached)
        log("REACHED")
        return
    latest, updates = latest_counts(bootstrap, topic, lambda _latest: True)
    wrong = {w: (latest.get(w), n) for w, n in expected.items() if latest.get(w) != n}
    check(not wrong, f"verify: counts (got, expected) differ for {len(wrong)} words: {wrong}")
    check_eq(sorted(latest), sorted(expected), "verify: words")
    check_eq(updates, sum(expected.values()), "verify: committed count updates")
    # For the record: updates written in transactions that were aborted (the killed
    # instance's last one, if it had written output) show only here.
    _, all_updates = latest_counts(bootstrap, topic, lambda _latest: True, "read_uncommitted")
    check(all_updates >= updates, "verify: read_uncommitted saw fewer updates")
    print(json.dumps({"words": len(latest), "updates": updates,
                      "updates_read_uncommitted": all_updates}), flush=True)


if __name__ == "__main__":
    main()
