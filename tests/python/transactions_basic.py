"""confluent-kafka's transactional producer against Floe, with consumers at
read_committed and read_uncommitted.

usage: transactions_basic.py BOOTSTRAP TOPIC MODE
  commit_abort  three transactions (commit, abort, commit) over two partitions:
                read_committed sees the committed records only, in order, with
                gaps in offsets where markers and aborted records are;
                read_uncommitted sees every record
  zombie        a second producer with the same transactional.id fences the
                first: its open transaction is aborted, its commit fails fatally
  timeout       a transaction left open past transaction.timeout.ms is aborted
                by the agent: read_committed never sees its records, and its
                producer cannot commit it
"""

import time

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

from floe_common import (args, assign_from, by_partition, check, check_eq, consumer,
                         consume_until_eof, create_topics, fail, log, producer)

PARTITIONS = 2


def txn_producer(bootstrap, txn_id, **extra):
    p = producer(bootstrap, **{"transactional.id": txn_id, "linger.ms": 5}, **extra)
    p.init_transactions(30)
    return p


def send(p, topic, prefix, count):
    for i in range(count):
        p.produce(topic, key=f"{prefix}{i}".encode(), value=f"{prefix}{i}".encode(),
                  partition=i % PARTITIONS)
        p.poll(0)


def read_all(bootstrap, topic, isolation):
    c = consumer(bootstrap, **{"isolation.level": isolation})
    assign_from(c, topic, {part: OFFSET_BEGINNING for part in range(PARTITIONS)})
    messages = consume_until_eof(c, range(PARTITIONS))
    c.close()
    return messages


def values(messages):
    return [m.value().decode() for m in messages]


def commit_abort(bootstrap, topic):
    p = txn_producer(bootstrap, f"{topic}-txn")
    for prefix, commit in [("c", True), ("a", False), ("d", True)]:
        p.begin_transaction()
        send(p, topic, prefix, 10)
        if commit:
            p.commit_transaction(30)
        else:
            p.flush(30)
            p.abort_transaction(30)

    committed = read_all(bootstrap, topic, "read_committed")
    everything = read_all(bootstrap, topic, "read_uncommitted")
    for part in range(PARTITIONS):
        got = by_partition(committed).get(part, [])
        wanted = [f"{prefix}{i}" for prefix in "cd" for i in range(10) if i % PARTITIONS == part]
        check_eq(values(got), wanted, f"read_committed values of partition {part}")
        offsets = [m.offset() for m in got]
        # Five records, a commit marker; five aborted, an abort marker; five
        # records: the committed records of the third transaction start after
        # the two markers and the aborted five.
        check_eq(offsets, [0, 1, 2, 3, 4, 12, 13, 14, 15, 16],
                 f"read_committed offsets of partition {part}")
        all_values = values(by_partition(everything).get(part, []))
        wanted_all = [f"{prefix}{i}" for prefix in "cad" for i in range(10)
                      if i % PARTITIONS == part]
        check_eq(all_values, wanted_all, f"read_uncommitted values of partition {part}")
    log("ok: committed transactions visible, the aborted one only to read_uncommitted")


def zombie(bootstrap, topic):
    txn_id = f"{topic}-txn"
    old = txn_producer(bootstrap, txn_id)
    old.begin_transaction()
    send(old, topic, "z", 10)
    check_eq(old.flush(30), 0, "zombie's records flushed")

    new = txn_producer(bootstrap, txn_id)
    new.begin_transaction()
    send(new, topic, "n", 4)
    new.commit_transaction(30)

    try:
        send(old, topic, "late", 2)
        old.commit_transaction(30)
        fail("the fenced producer committed")
    except KafkaException as e:
        error = e.args[0]
        log(f"fenced producer: {error}")
        check(error.fatal() or not error.retriable(), f"fencing is not fatal: {error}")

    committed = values(read_all(bootstrap, topic, "read_committed"))
    check_eq(sorted(committed), sorted(f"n{i}" for i in range(4)),
             "read_committed sees the new producer's records only")
    log("ok: the zombie was fenced and its transaction aborted")


def timeout(bootstrap, topic):
    p = txn_producer(bootstrap, f"{topic}-txn",
                     **{"transaction.timeout.ms": 2000, "message.timeout.ms": 2000})
    p.begin_transaction()
    send(p, topic, "t", 10)
    check_eq(p.flush(30), 0, "records flushed")
    # The agent's transactions job aborts it once it is 2 s old: then the
    # last stable offset moves past its records and its markers.
    deadline = time.monotonic() + 60
    while not _aborted(bootstrap, topic):
        if time.monotonic() > deadline:
            fail("the open transaction was not aborted in time")
        time.sleep(0.5)
    committed = read_all(bootstrap, topic, "read_committed")
    check_eq(len(read_all(bootstrap, topic, "read_uncommitted")), 10,
             "read_uncommitted sees the aborted records")
    check_eq(committed, [], "read_committed sees nothing of the timed-out transaction")
    try:
        p.commit_transaction(30)
        fail("the timed-out transaction committed")
    except KafkaException as e:
        # As on Kafka (transaction version 1): the coordinator's abort bumped
        # the epoch, so the producer is fenced.
        error = e.args[0]
        log(f"commit after timeout: {error}")
        check(error.fatal(), f"the timed-out producer is fenced: {error}")
    log("ok: the transaction past its timeout was aborted")


def _aborted(bootstrap, topic):
    """Whether every partition's last stable offset passed the transaction's
    records (the read_committed high watermark is the LSO)."""
    c = consumer(bootstrap, **{"isolation.level": "read_committed"})
    try:
        for part in range(PARTITIONS):
            _, high = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
            if high < 6:
                return False
        return True
    finally:
        c.close()


def main():
    bootstrap, topic, mode = args(3, "BOOTSTRAP TOPIC MODE")
    create_topics(bootstrap, {topic: PARTITIONS})
    {"commit_abort": commit_abort, "zombie": zombie, "timeout": timeout}[mode](bootstrap, topic)


if __name__ == "__main__":
    main()
