"""Transactions and the archive tier: what the archive holds and what Fetch serves
from it when transactional and plain producers share a partition.

Usage: archive_txn.py BOOTSTRAP TOPIC ROOT

ROOT is the agent's object store directory. On TOPIC (one partition, created with
`floe.archive.after.ms=1000` and `floe.archive.drop.segments=true`, archiving off):

1. Phase 1: a confluent-kafka transactional producer commits and aborts
   transactions (one of three aborts) while an idempotent plain producer writes to
   the same partition, also inside the open transactions. Then a second
   transactional producer opens a transaction and leaves it open (the last stable
   offset stays at its first record), and plain records follow it.
2. The archive is turned on; once its first snapshot is published it is turned off
   again, and the open transaction is aborted. Phase 2 adds more commits, aborts and
   plain records, ending with an aborted transaction.
3. Read from the beginning, across the archive → live boundary: at read_committed,
   exactly the committed records (plain and transactional) in offset order, each
   once; at read_uncommitted, the committed records, no aborted record of the
   archived range and every aborted record from the boundary on.
4. DuckDB reads the Parquet files: exactly the committed records below the open
   transaction, no aborted record, no marker.
5. The archive is turned on again until the whole log is archived; both readers
   again, now reading only the archive: exactly the committed records (the aborted
   records are gone at read_uncommitted too, as Kafka's log cleaner drops them), and
   DuckDB and pyiceberg read the same.
"""

import glob
import os
import sys
import time
import uuid

from confluent_kafka import KafkaError, TopicPartition
from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic,
                                   ResourceType)

from floe_common import admin, check, check_eq, consumer, fail, log, producer

WAIT_S = 90.0
ROUNDS = 9


class Log:
    """Every record written, by offset: (value, kind) with kind committed/aborted."""

    def __init__(self):
        self.by_offset = {}
        self.errors = []

    def produce(self, prod, topic, value, kind):
        def on_delivery(err, msg):
            if err is not None:
                self.errors.append((value, err))
            else:
                self.by_offset[msg.offset()] = (value, kind)
        prod.produce(topic, key=value.encode(), value=value.encode(), partition=0,
                     on_delivery=on_delivery)

    def flush(self, prod):
        check(prod.flush(30) == 0, "records not delivered")
        check(not self.errors, f"delivery errors: {self.errors[:3]}")

    def settle(self, offsets, kind):
        for offset in offsets:
            value, _ = self.by_offset[offset]
            self.by_offset[offset] = (value, kind)

    def of(self, *kinds, at_least=0):
        return [(o, v) for o, (v, k) in sorted(self.by_offset.items())
                if k in kinds and o >= at_least]


def set_archive(client, topic, enabled):
    entries = [ConfigEntry("floe.archive.enabled", "true" if enabled else "false",
                           incremental_operation=AlterConfigOpType.SET)]
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    (future,) = client.incremental_alter_configs([resource]).values()
    future.result(timeout=30)


def metadata_versions(root, topic):
    files = glob.glob(os.path.join(root, "archive", topic, "metadata", "v*.metadata.json"))
    return sorted(int(os.path.basename(f)[1:].split(".")[0]) for f in files)


def archived_through(root, topic):
    """The last offset the archive's files cover (their names say it), -1 if none:
    `<partition>-<base offset>-<last offset>-<uuid>.parquet`."""
    files = glob.glob(os.path.join(root, "archive", topic, "data", "*.parquet"))
    return max((int(os.path.basename(f).split("-")[2]) for f in files), default=-1)


def wait_for(what, done):
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def transactions(rec, topic, plain, txn, prefix, aborts):
    """ROUNDS transactions of 4 records each, plain records before and inside them;
    round i aborts when i % 3 == aborts."""
    for i in range(ROUNDS):
        rec.produce(plain, topic, f"{prefix}-plain-{i}", "committed")
        rec.flush(plain)
        txn.begin_transaction()
        before = set(rec.by_offset)
        for j in range(4):
            rec.produce(txn, topic, f"{prefix}-txn-{i}-{j}", "pending")
            if j == 1:
                rec.flush(txn)
                rec.produce(plain, topic, f"{prefix}-inside-{i}", "committed")
                rec.flush(plain)
        rec.flush(txn)
        mine = [o for o in set(rec.by_offset) - before if rec.by_offset[o][1] == "pending"]
        if i % 3 == aborts:
            txn.abort_transaction(30)
            rec.settle(mine, "aborted")
        else:
            txn.commit_transaction(30)
            rec.settle(mine, "committed")


def read(bootstrap, topic, isolation):
    """(offset, value) of every record of partition 0 from the beginning."""
    c = consumer(bootstrap, **{"isolation.level": isolation})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        records = []
        deadline = time.monotonic() + WAIT_S
        while True:
            if time.monotonic() > deadline:
                fail(f"{topic} not read to the end at {isolation}; {len(records)} records, "
                     f"last {records[-1:]}")
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return records
                fail(f"consume error at {isolation}: {msg.error()}")
            records.append((msg.offset(), msg.value().decode()))
    finally:
        c.close()


def parquet_rows(root, topic):
    import duckdb
    data = os.path.join(root, "archive", topic, "data", "*.parquet")
    con = duckdb.connect()
    return con.execute(
        f"SELECT \"offset\", decode(value) FROM read_parquet('{data}') "
        f"ORDER BY \"offset\"").fetchall()


def main():
    if len(sys.argv) != 4:
        fail(f"usage: {sys.argv[0]} BOOTSTRAP TOPIC ROOT")
    bootstrap, topic, root = sys.argv[1:]
    client = admin(bootstrap)
    (future,) = client.create_topics([NewTopic(
        topic, num_partitions=1, replication_factor=1,
        config={"floe.archive.after.ms": "1000",
                "floe.archive.drop.segments": "true"})]).values()
    future.result(timeout=60)

    rec = Log()
    plain = producer(bootstrap, **{"enable.idempotence": True, "linger.ms": 0})
    txn = producer(bootstrap, **{"transactional.id": f"archive-txn-{uuid.uuid4()}",
                                 "linger.ms": 0})
    txn.init_transactions(30)
    transactions(rec, topic, plain, txn, "p1", aborts=1)

    # A transaction left open: the last stable offset stays at its first record.
    hanging = producer(bootstrap, **{"transactional.id": f"archive-open-{uuid.uuid4()}",
                                     "linger.ms": 0, "transaction.timeout.ms": 120000})
    hanging.init_transactions(30)
    hanging.begin_transaction()
    before = set(rec.by_offset)
    for j in range(3):
        rec.produce(hanging, topic, f"open-{j}", "pending")
    rec.flush(hanging)
    open_offsets = sorted(set(rec.by_offset) - before)
    first_open = open_offsets[0]
    for j in range(3):
        rec.produce(plain, topic, f"after-open-{j}", "committed")
    rec.flush(plain)

    # Older than floe.archive.after.ms, then archived once.
    time.sleep(1.5)
    set_archive(client, topic, True)
    wait_for("the first archive snapshot", lambda: metadata_versions(root, topic))
    set_archive(client, topic, False)
    archived = parquet_rows(root, topic)
    log(f"first pass archived {len(archived)} records below offset {first_open}")
    check(archived, "the first pass archived nothing")
    check_eq(archived, [r for r in rec.of("committed") if r[0] < first_open][:len(archived)],
             "the archive holds the committed records in offset order, nothing else")
    check(archived[-1][0] < first_open, "nothing at or above the last stable offset archived")
    # Everything below the open transaction is eligible; one pass archives it all
    # unless row boundaries leave the last rows before it out.
    boundary = archived[-1][0] + 1

    hanging.abort_transaction(30)
    rec.settle(open_offsets, "aborted")
    transactions(rec, topic, plain, txn, "p2", aborts=2)
    txn.begin_transaction()
    before = set(rec.by_offset)
    for j in range(2):
        rec.produce(txn, topic, f"last-aborted-{j}", "pending")
    rec.flush(txn)
    txn.abort_transaction(30)
    rec.settle(sorted(set(rec.by_offset) - before), "aborted")

    committed = rec.of("committed")
    aborted = rec.of("aborted")
    log(f"{len(committed)} committed and {len(aborted)} aborted records written")
    check_eq(read(bootstrap, topic, "read_committed"), committed,
             "read_committed across the archive boundary")
    uncommitted = read(bootstrap, topic, "read_uncommitted")
    seen_aborted = [r for r in uncommitted if r in aborted]
    check_eq([r for r in uncommitted if r not in aborted], committed,
             "read_uncommitted: the committed records")
    check(all(o >= boundary for o, _ in seen_aborted),
          f"read_uncommitted saw aborted records of the archived range: {seen_aborted[:3]}")
    check_eq(seen_aborted, rec.of("aborted", at_least=seen_aborted[0][0] if seen_aborted else 0),
             "read_uncommitted sees every aborted record of the live range")
    check(("open-0" in {v for _, v in seen_aborted}),
          "the transaction open while archiving stayed live")

    # The rest archived too; the log ends with an aborted transaction.
    time.sleep(1.5)
    set_archive(client, topic, True)
    # The abort marker of the last transaction is the log's last offset.
    last = max(rec.by_offset) + 1
    wait_for("the whole log archived", lambda: archived_through(root, topic) == last)
    wait_for("the last snapshot published",
             lambda: len(metadata_versions(root, topic)) >= 2)
    log(f"whole log archived up to offset {last}")
    check_eq(parquet_rows(root, topic), committed, "DuckDB reads the committed records only")
    check_eq(read(bootstrap, topic, "read_committed"), committed,
             "read_committed from the archive")
    check_eq(read(bootstrap, topic, "read_uncommitted"), committed,
             "read_uncommitted from the archive: aborted records are gone")

    from pyiceberg.table import StaticTable
    newest = max(metadata_versions(root, topic))
    table = StaticTable.from_metadata(
        "file://" + os.path.join(root, "archive", topic, "metadata", f"v{newest}.metadata.json"))
    arrow = table.scan().to_arrow()
    got = sorted(zip(arrow.column("offset").to_pylist(),
                     (v.decode() for v in arrow.column("value").to_pylist())))
    check_eq(got, committed, "pyiceberg reads the committed records only")
    log(f"OK {len(committed)} committed records, {len(aborted)} aborted left out")


if __name__ == "__main__":
    main()
