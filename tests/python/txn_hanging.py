"""A transaction left open on a partition, for `kafka-transactions.sh` to find and
abort (tests/tests/kafka_transactions_tool.rs).

Usage:
  txn_hanging.py BOOTSTRAP open TOPIC TXN_ID  creates TOPIC (one partition), writes a
      plain record "before", opens a transaction of TXN_ID with three records
      "open-0".."open-2", writes a plain record "after" and exits with the transaction
      still open (transaction.timeout.ms is 10 minutes). Prints the transaction's first
      offset and its producer id as JSON.
  txn_hanging.py BOOTSTRAP read TOPIC ISOLATION  prints the values of partition 0,
      read from the beginning to its end at ISOLATION, as JSON.
"""

import json
import sys
import time

from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic

from floe_common import admin, check, consumer, fail, producer

WAIT_S = 60.0


def open_transaction(bootstrap, topic, txn_id):
    # Kept until the future is done: a dropped AdminClient fails it.
    client = admin(bootstrap)
    (future,) = client.create_topics(
        [NewTopic(topic, num_partitions=1, replication_factor=1)]).values()
    future.result(timeout=60)
    plain = producer(bootstrap, **{"enable.idempotence": True})
    offsets = {}

    def delivered(err, msg):
        check(err is None, f"delivery failed: {err}")
        offsets[msg.value().decode()] = msg.offset()

    plain.produce(topic, value=b"before", partition=0, on_delivery=delivered)
    check(plain.flush(30) == 0, "plain record not delivered")
    txn = producer(bootstrap, **{"transactional.id": txn_id,
                                 "transaction.timeout.ms": 600000})
    txn.init_transactions(30)
    txn.begin_transaction()
    for i in range(3):
        txn.produce(topic, value=f"open-{i}".encode(), partition=0, on_delivery=delivered)
    check(txn.flush(30) == 0, "transactional records not delivered")
    plain.produce(topic, value=b"after", partition=0, on_delivery=delivered)
    check(plain.flush(30) == 0, "plain record not delivered")
    print(json.dumps({"start": offsets["open-0"], "offsets": offsets}))


def read(bootstrap, topic, isolation):
    c = consumer(bootstrap, **{"isolation.level": isolation})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        values = []
        deadline = time.monotonic() + WAIT_S
        while True:
            if time.monotonic() > deadline:
                fail(f"{topic} not read to its end at {isolation}: {values}")
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    break
                fail(f"consume error: {msg.error()}")
            values.append(msg.value().decode())
        print(json.dumps(values))
    finally:
        c.close()


def main():
    if len(sys.argv) != 5 or sys.argv[2] not in ("open", "read"):
        fail(f"usage: {sys.argv[0]} BOOTSTRAP open TOPIC TXN_ID | read TOPIC ISOLATION")
    bootstrap, mode, topic, arg = sys.argv[1:]
    if mode == "open":
        open_transaction(bootstrap, topic, arg)
    else:
        read(bootstrap, topic, arg)


if __name__ == "__main__":
    main()
