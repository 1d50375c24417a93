"""A consume-transform-produce loop with confluent-kafka transactions, meant to be
killed (SIGKILL) mid-run and restarted with the same transactional id.

Usage:
  txn_ctp.py BOOTSTRAP seed INPUT OUTPUT COUNT
      creates INPUT and OUTPUT (3 partitions each) and writes COUNT records
      `in-<i>` (key `<i>`) to INPUT with an idempotent producer.
  txn_ctp.py BOOTSTRAP run INPUT OUTPUT GROUP TXN_ID [STALL_AFTER]
      reads INPUT at read_committed in GROUP (static member, so a restart takes its
      place at once), and per batch of up to BATCH records, in one transaction:
      produces `out-<i>` to OUTPUT, flushes (the records are in the log, not yet
      committed), sends the consumed offsets with send_offsets_to_transaction and
      commits. Prints `COMMITTED <records>` after each commit. Exits 0 once the
      group has committed the end of every INPUT partition. With STALL_AFTER,
      after that many commits it writes one more batch, flushes it, prints
      `STALLED` and waits to be killed: a transaction is surely open then.
  txn_ctp.py BOOTSTRAP verify OUTPUT COUNT
      reads OUTPUT to its end at read_committed and checks it holds every
      `out-<i>` for i < COUNT exactly once; reads it at read_uncommitted too and
      prints one JSON line {"committed": C, "uncommitted": U}.
"""

import json
import os
import sys
import time
import uuid
from collections import Counter

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from floe_common import check, check_eq, create_topics, fail, log

PARTITIONS = 3
BATCH = 25
# How long a run may go without reaching the end of its input.
RUN_TIMEOUT_S = 120.0
READ_TIMEOUT_S = 60.0


def seed(bootstrap, input_topic, output_topic, count):
    create_topics(bootstrap, {input_topic: PARTITIONS, output_topic: PARTITIONS})
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": 5})
    errors = []
    for i in range(count):
        producer.produce(input_topic, key=str(i).encode(), value=f"in-{i}".encode(),
                         on_delivery=lambda err, _m: err and errors.append(err))
        producer.poll(0)
    check(producer.flush(30) == 0, "seed: records not delivered")
    check(not errors, f"seed: delivery errors {errors}")
    log(f"SEEDED {count}")


def progress(consumer, partitions):
    """(the group's committed offset, high watermark) of every input partition.

    The committed offset, not the consumer's position: a partition that had nothing
    left to read when this instance started has no position, and the offsets
    committed with the transactions are what a restart resumes from."""
    result = []
    for tp in consumer.committed(partitions, timeout=10):
        _low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
        result.append((tp.offset, high))
    return result


def at_end(consumer, partitions):
    """Whether the group has committed the end of every input partition."""
    return all(committed >= 0 and committed >= high
               for committed, high in progress(consumer, partitions))


def debug_config():
    """librdkafka's debug contexts from TXN_CTP_DEBUG (e.g. `cgrp,fetch`), if set."""
    contexts = os.environ.get("TXN_CTP_DEBUG")
    return {"debug": contexts} if contexts else {}


def run(bootstrap, input_topic, output_topic, group, txn_id, stall_after):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "group.instance.id": f"{txn_id}-member",
        "session.timeout.ms": 10000,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        **debug_config(),
    })
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": txn_id,
        "transaction.timeout.ms": 30000,
        "linger.ms": 5,
    })
    # Fences any earlier instance with this id and aborts its open transaction.
    producer.init_transactions(30)
    consumer.subscribe([input_topic])
    commits = 0
    idle = 0
    deadline = time.monotonic() + RUN_TIMEOUT_S
    partitions = [TopicPartition(input_topic, p) for p in range(PARTITIONS)]
    while True:
        if time.monotonic() > deadline:
            fail(f"run: did not reach the end of {input_topic} in {RUN_TIMEOUT_S} s")
        messages = consumer.consume(BATCH, 1.0)
        for m in messages:
            if m.error():
                fail(f"run: consume error {m.error()}")
        if not messages:
            if consumer.assignment() and at_end(consumer, partitions):
                break
            idle += 1
            if idle % 5 == 0:
                log(f"IDLE assignment={consumer.assignment()} "
                    f"(committed, high)={progress(consumer, partitions)}")
            continue
        idle = 0
        producer.begin_transaction()
        for m in messages:
            value = m.value().decode()
            check(value.startswith("in-"), f"run: unexpected input {value!r}")
            producer.produce(output_topic, key=m.key(), value=f"out-{value[3:]}".encode())
        # In the log now, uncommitted: a kill from here to the commit leaves an open
        # transaction that the next instance's init_transactions aborts.
        check(producer.flush(30) == 0, "run: records not delivered")
        if stall_after is not None and commits >= stall_after:
            log("STALLED")
            while True:
                time.sleep(1)
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()),
            consumer.consumer_group_metadata(),
            30,
        )
        producer.commit_transaction(30)
        commits += 1
        log(f"COMMITTED {len(messages)}")
    consumer.close()
    log(f"DONE after {commits} commits")


def read_all(bootstrap, topic, isolation):
    """Every value of `topic`, read from the beginning to the end of each partition."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"ctp-verify-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "isolation.level": isolation,
        "enable.partition.eof": True,
    })
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        values = []
        done = set()
        deadline = time.monotonic() + READ_TIMEOUT_S
        while len(done) < PARTITIONS:
            if time.monotonic() > deadline:
                fail(f"verify {isolation}: {topic} not read to the end; "
                     f"{len(values)} records, done {sorted(done)}")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    done.add(msg.partition())
                    continue
                fail(f"verify {isolation}: consume error {msg.error()}")
            done.discard(msg.partition())
            values.append(msg.value().decode())
        return values
    finally:
        consumer.close()


def verify(bootstrap, output_topic, count):
    committed = read_all(bootstrap, output_topic, "read_committed")
    counts = Counter(committed)
    duplicates = sorted(v for v, n in counts.items() if n > 1)
    expected = {f"out-{i}" for i in range(count)}
    missing = sorted(expected - counts.keys())
    extra = sorted(counts.keys() - expected)
    check(not duplicates, f"verify: {len(duplicates)} duplicates, e.g. {duplicates[:10]}")
    check(not missing, f"verify: {len(missing)} inputs lost, e.g. {missing[:10]}")
    check(not extra, f"verify: unexpected records {extra[:10]}")
    check_eq(len(committed), count, "verify: committed records")
    uncommitted = read_all(bootstrap, output_topic, "read_uncommitted")
    check(Counter(uncommitted) >= counts,
          "verify: read_uncommitted lacks records that read_committed saw")
    print(json.dumps({"committed": len(committed), "uncommitted": len(uncommitted)}),
          flush=True)


def main():
    argv = sys.argv[1:]
    if len(argv) < 2:
        fail(f"usage: {sys.argv[0]} BOOTSTRAP seed|run|verify ...")
    bootstrap, mode, rest = argv[0], argv[1], argv[2:]
    if mode == "seed" and len(rest) == 3:
        seed(bootstrap, rest[0], rest[1], int(rest[2]))
    elif mode == "run" and len(rest) in (4, 5):
        stall = int(rest[4]) if len(rest) == 5 else None
        run(bootstrap, rest[0], rest[1], rest[2], rest[3], stall)
    elif mode == "verify" and len(rest) == 2:
        verify(bootstrap, rest[0], int(rest[1]))
    else:
        fail(f"bad arguments: {argv}")


if __name__ == "__main__":
    main()
