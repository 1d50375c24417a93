"""Transactions on a compacted topic (cleanup.policy=compact), as Kafka Streams'
changelogs have them, read at read_committed after the log cleaner ran.

Usage: txn_compacted.py BOOTSTRAP TOPIC [cleaned]

Creates TOPIC (one partition, compact, min.cleanable.dirty.ratio=0.01) and writes,
with confluent-kafka, plain records and transactions to three groups of keys:
  a0..a9   plain-1, then committed txn-2, then aborted txn-3  -> latest txn-2
  b0..b9   plain-1, committed txn-2, aborted txn-3, plain-4   -> latest plain-4
  c0..c9   plain-1, then aborted txn-3                        -> latest plain-1
and five plain rounds of updates to d0..d39 around them (dirt for the cleaner).
Then reads TOPIC from the beginning at read_committed: the latest value of every key
must be the one above, no value of an aborted transaction may appear, and every key
must be there. With `cleaned`, it first waits until the cleaner has left each d key
once (so the checks run on a cleaned log): an aborted record must not make the
committed one before it go, and cleaning must keep the aborted ranges right.
"""

import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic

from floe_common import admin, check, check_eq, fail, log, producer

DIRT_KEYS = 40
DIRT_ROUNDS = 5
WAIT_S = 90.0


def create(bootstrap, topic):
    # Kept until the futures are done: a dropped AdminClient fails them.
    client = admin(bootstrap)
    futures = client.create_topics([NewTopic(
        topic, num_partitions=1, replication_factor=1,
        config={"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01"})])
    for name, future in futures.items():
        try:
            future.result(timeout=60)
        except Exception as e:  # noqa: BLE001 - report any failure
            fail(f"create_topics({name}) failed: {e!r}")


def write(bootstrap, topic):
    plain = producer(bootstrap, **{"enable.idempotence": True})
    txn = producer(bootstrap, **{"transactional.id": f"txn-compacted-{uuid.uuid4()}"})
    txn.init_transactions(30)

    def send_plain(keys, value):
        for key in keys:
            plain.produce(topic, key=key.encode(), value=value.encode(), partition=0)
        check(plain.flush(30) == 0, "plain records not delivered")

    def send_txn(keys, value, commit):
        txn.begin_transaction()
        for key in keys:
            txn.produce(topic, key=key.encode(), value=value.encode(), partition=0)
        check(txn.flush(30) == 0, "transactional records not delivered")
        if commit:
            txn.commit_transaction(30)
        else:
            txn.abort_transaction(30)

    a = [f"a{i}" for i in range(10)]
    b = [f"b{i}" for i in range(10)]
    c = [f"c{i}" for i in range(10)]
    dirt = [f"d{i}" for i in range(DIRT_KEYS)]
    send_plain(dirt, "dirt-1")
    send_plain(a + b + c, "plain-1")
    send_plain(dirt, "dirt-2")
    send_txn(a + b, "txn-2", commit=True)
    send_plain(dirt, "dirt-3")
    send_txn(a + b + c, "txn-3", commit=False)
    send_plain(b, "plain-4")
    for round_ in range(4, DIRT_ROUNDS + 1):
        send_plain(dirt, f"dirt-{round_}")
    expected = {k: "txn-2" for k in a}
    expected.update({k: "plain-4" for k in b})
    expected.update({k: "plain-1" for k in c})
    expected.update({k: f"dirt-{DIRT_ROUNDS}" for k in dirt})
    return expected


def read_committed(bootstrap, topic):
    """(key, value) of every record of the partition at read_committed, in order."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"txn-compacted-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    })
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        records = []
        deadline = time.monotonic() + WAIT_S
        while True:
            if time.monotonic() > deadline:
                fail(f"{topic} not read to the end; {len(records)} records")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return records
                fail(f"consume error {msg.error()}")
            records.append((msg.key().decode(), msg.value().decode()))
    finally:
        consumer.close()


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["cleaned"]):
        fail(f"usage: {sys.argv[0]} BOOTSTRAP TOPIC [cleaned]")
    bootstrap, topic, cleaned = sys.argv[1], sys.argv[2], sys.argv[3:] == ["cleaned"]
    create(bootstrap, topic)
    expected = write(bootstrap, topic)
    records = read_committed(bootstrap, topic)
    if cleaned:
        deadline = time.monotonic() + WAIT_S
        while sum(1 for k, _ in records if k.startswith("d")) != DIRT_KEYS:
            if time.monotonic() > deadline:
                fail(f"the cleaner did not leave each d key once within {WAIT_S}s: "
                     f"{len(records)} records")
            time.sleep(0.5)
            records = read_committed(bootstrap, topic)
        log(f"cleaned: {len(records)} records left at read_committed")
    aborted = [(k, v) for k, v in records if v == "txn-3"]
    check(not aborted, f"aborted records seen at read_committed: {aborted[:5]}")
    latest = {}
    for key, value in records:
        latest[key] = value
    check_eq(latest, expected, "latest committed value of every key")
    log(f"OK {len(records)} records at read_committed, {len(latest)} keys")


if __name__ == "__main__":
    main()
