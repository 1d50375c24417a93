"""Transactional producers of confluent-kafka AND kafka-python, read across each other.

Usage: txn_producers.py BOOTSTRAP SCENARIO

SCENARIO is one of
  commit_abort  each library's transactional producer commits, aborts, commits
                again; read_committed consumers of both libraries see exactly the
                committed records (in order, nothing of the aborted transaction) and
                read_uncommitted consumers of both see every record written.
  fencing       a zombie producer with a transaction open is fenced by a newer
                init_transactions with the same transactional id from the other
                library: its commit fails with the library's fenced error
                (confluent-kafka: a fatal _FENCED KafkaError; kafka-python:
                ProducerFencedError or, for its EndTxn version,
                InvalidProducerEpochError), its records are never visible at
                read_committed, and the newer producer's are.
  timeout       a transaction left open past transaction.timeout.ms is aborted by
                the coordinator: read_committed readers move past it (a later
                transaction becomes visible) without seeing its records, and the
                stale producer's commit fails.

Prints one line `OK <scenario> ...` per check that passed and exits non-zero with a
FAIL line on the first difference.
"""

import sys
import time
import uuid

import kafka
import kafka.errors
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from floe_common import check, check_eq, create_topics, fail, log

PARTITIONS = 2
# How long one read to the end may take (a read_committed reader waits for the LSO).
READ_TIMEOUT_S = 45.0


def topic_name(what):
    return f"txn-{what}-{uuid.uuid4().hex[:10]}"


# --- producers: one small interface over both libraries ---------------------------


class ConfluentTxnProducer:
    """confluent-kafka's transactional producer."""

    library = "confluent"

    def __init__(self, bootstrap, txn_id, timeout_ms=60000):
        self.producer = Producer({
            "bootstrap.servers": bootstrap,
            "transactional.id": txn_id,
            "transaction.timeout.ms": timeout_ms,
            "linger.ms": 5,
        })
        self.errors = []

    def _report(self, err, _msg):
        if err is not None:
            self.errors.append(err)

    def init(self):
        self.producer.init_transactions(30)

    def begin(self):
        self.producer.begin_transaction()

    def send(self, topic, partition, key, value):
        self.producer.produce(topic, value=value, key=key, partition=partition,
                              on_delivery=self._report)

    def flush(self):
        remaining = self.producer.flush(30)
        check(remaining == 0, f"confluent: {remaining} records not delivered")
        check(not self.errors, f"confluent: delivery errors {self.errors}")

    def commit(self):
        self.producer.commit_transaction(30)

    def abort(self):
        self.producer.abort_transaction(30)

    def close(self):
        self.producer.flush(0)


class KafkaPythonTxnProducer:
    """kafka-python's transactional producer."""

    library = "kafka-python"

    def __init__(self, bootstrap, txn_id, timeout_ms=60000):
        self.producer = kafka.KafkaProducer(
            bootstrap_servers=bootstrap,
            transactional_id=txn_id,
            transaction_timeout_ms=timeout_ms,
            linger_ms=5,
        )
        self.futures = []

    def init(self):
        self.producer.init_transactions()

    def begin(self):
        self.producer.begin_transaction()

    def send(self, topic, partition, key, value):
        self.futures.append(self.producer.send(topic, key=key, value=value, partition=partition))

    def flush(self):
        self.producer.flush(timeout=30)
        for future in self.futures:
            future.get(timeout=30)
        self.futures = []

    def commit(self):
        self.producer.commit_transaction()

    def abort(self):
        self.producer.abort_transaction()

    def close(self):
        self.producer.close(timeout=5)


PRODUCERS = {
    "confluent": ConfluentTxnProducer,
    "kafka-python": KafkaPythonTxnProducer,
}


# --- consumers: read a topic from the beginning to its end --------------------------


def read_confluent(bootstrap, topic, isolation):
    """Every value of `topic` per partition, read by confluent-kafka from the
    beginning until the position reaches the end (the LSO at read_committed)."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"txn-reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "isolation.level": isolation,
        "enable.partition.eof": True,
    })
    try:
        parts = [TopicPartition(topic, p, 0) for p in range(PARTITIONS)]
        consumer.assign(parts)
        values = {p: [] for p in range(PARTITIONS)}
        at_end = set()
        deadline = time.monotonic() + READ_TIMEOUT_S
        while len(at_end) < PARTITIONS:
            if time.monotonic() > deadline:
                fail(f"confluent {isolation}: read of {topic} did not reach the end; "
                     f"got {values}, at end {sorted(at_end)}")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    continue
                fail(f"confluent {isolation}: consume error {msg.error()}")
            at_end.discard(msg.partition())
            values[msg.partition()].append(msg.value().decode())
        return values
    finally:
        consumer.close()


def read_kafka_python(bootstrap, topic, isolation):
    """Every value of `topic` per partition, read by kafka-python from the beginning
    until the position reaches end_offsets (the LSO at read_committed)."""
    consumer = kafka.KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level=isolation,
        auto_offset_reset="earliest",
    )
    try:
        parts = [kafka.TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        values = {p: [] for p in range(PARTITIONS)}
        deadline = time.monotonic() + READ_TIMEOUT_S
        while True:
            if time.monotonic() > deadline:
                fail(f"kafka-python {isolation}: read of {topic} did not reach the end; "
                     f"got {values}")
            batches = consumer.poll(timeout_ms=500)
            for tp, records in batches.items():
                values[tp.partition].extend(r.value.decode() for r in records)
            ends = consumer.end_offsets(parts)
            if all(consumer.position(tp) >= ends[tp] for tp in parts) and not batches:
                return values
    finally:
        consumer.close()


CONSUMERS = {
    "confluent": read_confluent,
    "kafka-python": read_kafka_python,
}


# --- scenarios -----------------------------------------------------------------------


def scenario_commit_abort(bootstrap):
    for lib, make in PRODUCERS.items():
        topic = topic_name(f"ca-{lib}")
        create_topics(bootstrap, {topic: PARTITIONS})
        producer = make(bootstrap, f"txn-ca-{uuid.uuid4()}")
        producer.init()
        committed = {p: [] for p in range(PARTITIONS)}
        written = {p: [] for p in range(PARTITIONS)}
        for txn, outcome in enumerate(["commit", "abort", "commit"]):
            producer.begin()
            for i in range(10):
                partition = i % PARTITIONS
                value = f"{lib}-{outcome}-{txn}-{i}"
                producer.send(topic, partition, str(i).encode(), value.encode())
                written[partition].append(value)
                if outcome == "commit":
                    committed[partition].append(value)
            producer.flush()
            if outcome == "commit":
                producer.commit()
            else:
                producer.abort()
        producer.close()
        for reader, read in CONSUMERS.items():
            got = read(bootstrap, topic, "read_committed")
            check_eq(got, committed, f"{lib} producer, {reader} read_committed")
            got = read(bootstrap, topic, "read_uncommitted")
            check_eq(got, written, f"{lib} producer, {reader} read_uncommitted")
            log(f"OK commit_abort producer={lib} reader={reader}")


def is_confluent_fenced(error):
    """Whether a confluent-kafka exception is librdkafka's fatal fenced error."""
    if not isinstance(error, KafkaException):
        return False
    kerr = error.args[0]
    return kerr.fatal() and kerr.code() in (
        KafkaError._FENCED,
        KafkaError.PRODUCER_FENCED,
        KafkaError.INVALID_PRODUCER_EPOCH,
    )


def is_kafka_python_fenced(error):
    """Whether kafka-python reports the producer fenced: ProducerFencedError, or
    InvalidProducerEpochError, which is what Kafka answers EndTxn versions before
    PRODUCER_FENCED existed (kafka-python 2.3 sends such a version)."""
    return isinstance(error, (kafka.errors.ProducerFencedError,
                              kafka.errors.InvalidProducerEpochError))


FENCED = {"confluent": is_confluent_fenced, "kafka-python": is_kafka_python_fenced}


def scenario_fencing(bootstrap):
    for zombie_lib, newer_lib in [("confluent", "kafka-python"), ("kafka-python", "confluent")]:
        topic = topic_name(f"fence-{zombie_lib}")
        create_topics(bootstrap, {topic: PARTITIONS})
        txn_id = f"txn-fence-{uuid.uuid4()}"
        zombie = PRODUCERS[zombie_lib](bootstrap, txn_id)
        zombie.init()
        zombie.begin()
        for i in range(6):
            zombie.send(topic, i % PARTITIONS, None, f"zombie-{i}".encode())
        zombie.flush()

        newer = PRODUCERS[newer_lib](bootstrap, txn_id)
        # Fences the zombie: bumps the epoch and aborts its open transaction.
        newer.init()
        newer.begin()
        for i in range(4):
            newer.send(topic, i % PARTITIONS, None, f"newer-{i}".encode())
        newer.flush()
        newer.commit()

        try:
            zombie.commit()
        except Exception as error:  # noqa: BLE001 - the type is what is checked
            check(FENCED[zombie_lib](error),
                  f"{zombie_lib} zombie: commit raised {error!r}, not a fenced error")
            log(f"OK fencing zombie={zombie_lib} raised {error!r}")
        else:
            fail(f"{zombie_lib} zombie: commit_transaction succeeded after being fenced")

        expected = {p: [f"newer-{i}" for i in range(4) if i % PARTITIONS == p]
                    for p in range(PARTITIONS)}
        everything = {p: [f"zombie-{i}" for i in range(6) if i % PARTITIONS == p] + expected[p]
                      for p in range(PARTITIONS)}
        for reader, read in CONSUMERS.items():
            check_eq(read(bootstrap, topic, "read_committed"), expected,
                     f"zombie {zombie_lib} fenced by {newer_lib}: {reader} read_committed")
            check_eq(read(bootstrap, topic, "read_uncommitted"), everything,
                     f"zombie {zombie_lib} fenced by {newer_lib}: {reader} read_uncommitted")
        log(f"OK fencing zombie={zombie_lib} newer={newer_lib}")
        newer.close()
        try:
            zombie.close()
        except Exception:  # noqa: BLE001 - a fenced producer may refuse to close cleanly
            pass


def scenario_timeout(bootstrap):
    timeout_ms = 3000
    for lib, make in PRODUCERS.items():
        topic = topic_name(f"timeout-{lib}")
        create_topics(bootstrap, {topic: PARTITIONS})
        stale = make(bootstrap, f"txn-timeout-{uuid.uuid4()}", timeout_ms=timeout_ms)
        stale.init()
        stale.begin()
        for i in range(6):
            stale.send(topic, i % PARTITIONS, None, f"stale-{i}".encode())
        stale.flush()
        # Left open: only the coordinator's timeout can end it.
        time.sleep(timeout_ms / 1000 + 1)

        # A later committed transaction of another producer. Readers at
        # read_committed see it only once the stale one has ended (the LSO is held
        # at the stale transaction's first offset until then).
        later = make(bootstrap, f"txn-later-{uuid.uuid4()}")
        later.init()
        later.begin()
        for i in range(4):
            later.send(topic, i % PARTITIONS, None, f"later-{i}".encode())
        later.flush()
        later.commit()
        later.close()

        expected = {p: [f"later-{i}" for i in range(4) if i % PARTITIONS == p]
                    for p in range(PARTITIONS)}
        for reader, read in CONSUMERS.items():
            check_eq(read(bootstrap, topic, "read_committed"), expected,
                     f"{lib} timed-out transaction: {reader} read_committed")
            got = read(bootstrap, topic, "read_uncommitted")
            check_eq(sorted(v for vs in got.values() for v in vs),
                     sorted([f"stale-{i}" for i in range(6)] + [f"later-{i}" for i in range(4)]),
                     f"{lib} timed-out transaction: {reader} read_uncommitted")

        try:
            stale.commit()
        except Exception as error:  # noqa: BLE001 - any refusal is right here
            log(f"OK timeout producer={lib} stale commit raised {error!r}")
        else:
            fail(f"{lib}: commit_transaction of a transaction the coordinator aborted succeeded")
        # The aborted transaction stays invisible after the stale commit attempt.
        check_eq(read_confluent(bootstrap, topic, "read_committed"), expected,
                 f"{lib} timed-out transaction after the stale commit")
        try:
            stale.close()
        except Exception:  # noqa: BLE001 - a fenced producer may refuse to close cleanly
            pass
        log(f"OK timeout producer={lib}")


SCENARIOS = {
    "commit_abort": scenario_commit_abort,
    "fencing": scenario_fencing,
    "timeout": scenario_timeout,
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        fail(f"usage: {sys.argv[0]} BOOTSTRAP {{{'|'.join(SCENARIOS)}}}")
    SCENARIOS[sys.argv[2]](sys.argv[1])
    log(f"OK {sys.argv[2]}")


if __name__ == "__main__":
    main()
