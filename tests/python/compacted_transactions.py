"""Transactions on a compacted topic, cleaned (as Kafka Streams' exactly_once_v2
changelogs are), with confluent-kafka's transactional producer.

Usage: compacted_transactions.py BOOTSTRAP TOPIC

TOPIC (one partition, compact, min.cleanable.dirty.ratio=0.01,
delete.retention.ms=3000) gets six transactions of 100 keys k00..k99, values
r0..r5, of which r1 and r3 abort. Then a second producer writes k00..k09 "open"
in a transaction it leaves open, and the first commits k50..k99 "late" after it
(above the last stable offset).

1. Once the log cleaner ran (read_uncommitted sees one record per key below the
   open transaction): below it, exactly r5 of every key at the offset it was
   produced at, no aborted record; from it on, every record as produced (the open
   transaction is untouched). read_committed sees exactly the part below it.
2. The open transaction commits. Once cleaned again, read_committed and
   read_uncommitted both see exactly the latest committed record of each key at
   its offset: "open" for k00..k09, r5 for k10..k49, "late" for k50..k99.

The last line printed is that expected log as JSON, {key: [offset, value]}, for
the Rust test to check the markers' removal against.
"""

import json
import time
import uuid

from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic

from floe_common import admin, args, check, check_eq, consumer, fail, log, producer

KEYS = [f"k{i:02}" for i in range(100)]
ROUNDS = 6
ABORTED = {1, 3}
WAIT_S = 90.0


def create(bootstrap, topic):
    client = admin(bootstrap)  # kept alive until the futures resolve
    futures = client.create_topics([NewTopic(
        topic, num_partitions=1, replication_factor=1,
        config={"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01",
                "delete.retention.ms": "3000"})])
    for name, future in futures.items():
        try:
            future.result(timeout=60)
        except Exception as e:  # noqa: BLE001 - report any failure
            fail(f"create_topics({name}) failed: {e!r}")


class Txn:
    """A transactional producer recording the offset of every record it wrote."""

    def __init__(self, bootstrap, topic, name):
        self.topic = topic
        self.offsets = {}
        self.errors = []
        self.p = producer(bootstrap, **{"transactional.id": f"{name}-{uuid.uuid4()}"})
        self.p.init_transactions(30)

    def write(self, keys, value):
        """Begins a transaction and writes `value` to `keys`; returns their offsets."""
        self.p.begin_transaction()
        written = {}

        def on_delivery(err, msg):
            if err is not None:
                self.errors.append(err)
            else:
                written[msg.key().decode()] = msg.offset()

        for key in keys:
            self.p.produce(self.topic, key=key.encode(), value=value.encode(), partition=0,
                           on_delivery=on_delivery)
        check_eq(self.p.flush(30), 0, f"undelivered records of {value}")
        check(not self.errors, f"delivery errors: {self.errors[:5]}")
        check_eq(len(written), len(keys), f"records of {value} delivered")
        return written

    def end(self, commit):
        if commit:
            self.p.commit_transaction(30)
        else:
            self.p.abort_transaction(30)


def read(bootstrap, topic, isolation):
    """Every record of the partition from its log start: [(offset, key, value)]."""
    c = consumer(bootstrap, **{"isolation.level": isolation})
    c.assign([TopicPartition(topic, 0, -2)])
    records = []
    deadline = time.monotonic() + 60
    try:
        while True:
            if time.monotonic() > deadline:
                fail(f"{topic} not read to its end at {isolation}; {len(records)} records")
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return records
                fail(f"consumer error at {isolation}: {msg.error()!r}")
            records.append((msg.offset(), msg.key().decode(), msg.value().decode()))
    finally:
        c.close()


def wait_until(what, condition):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            fail(f"not within {WAIT_S}s: {what}")
        time.sleep(0.5)


def as_log(latest):
    """{key: (offset, value)} as records by offset."""
    return sorted((offset, key, value) for key, (offset, value) in latest.items())


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    create(bootstrap, topic)
    main_txn = Txn(bootstrap, topic, "compacted-txn-main")
    rounds = []
    for r in range(ROUNDS):
        rounds.append(main_txn.write(KEYS, f"r{r}"))
        main_txn.end(commit=r not in ABORTED)
    open_txn = Txn(bootstrap, topic, "compacted-txn-open")
    opened = open_txn.write(KEYS[:10], "open")
    stable = min(opened.values())
    late = main_txn.write(KEYS[50:], "late")
    main_txn.end(commit=True)
    check(min(late.values()) > stable, "the late transaction is above the open one")
    log(f"written; the open transaction starts at {stable}")

    # 1. Cleaned below the last stable offset, untouched from it on.
    below = as_log({k: (rounds[-1][k], f"r{ROUNDS - 1}") for k in KEYS})
    above = sorted([(o, k, "open") for k, o in opened.items()]
                   + [(o, k, "late") for k, o in late.items()])

    def cleaned_below():
        return len([r for r in read(bootstrap, topic, "read_uncommitted")
                    if r[0] < stable]) == len(KEYS)

    wait_until("the cleaner compacts below the open transaction", cleaned_below)
    uncommitted = read(bootstrap, topic, "read_uncommitted")
    check_eq(uncommitted, below + above, "read_uncommitted with a transaction open")
    check_eq(read(bootstrap, topic, "read_committed"), below,
             "read_committed with a transaction open")
    aborted = [r for r in uncommitted if r[2] in {f"r{a}" for a in ABORTED}]
    check(not aborted, f"aborted records left: {aborted[:5]}")
    log(f"cleaned below {stable}: {len(below)} records, {len(above)} above untouched")

    # 2. The open transaction commits: everything is compacted.
    open_txn.end(commit=True)
    latest = {k: (rounds[-1][k], f"r{ROUNDS - 1}") for k in KEYS}
    latest.update({k: (o, "open") for k, o in opened.items()})
    latest.update({k: (o, "late") for k, o in late.items()})
    expected = as_log(latest)
    wait_until("the cleaner compacts the committed transaction",
               lambda: len(read(bootstrap, topic, "read_committed")) == len(KEYS))
    check_eq(read(bootstrap, topic, "read_committed"), expected, "read_committed, all committed")
    check_eq(read(bootstrap, topic, "read_uncommitted"), expected,
             "read_uncommitted, all committed")
    log(f"OK: {len(expected)} records, the latest committed of each key")
    print(json.dumps({k: [o, v] for k, (o, v) in latest.items()}), flush=True)


if __name__ == "__main__":
    main()
