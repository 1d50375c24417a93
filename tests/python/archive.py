"""The archive tier seen by clients and by table readers.

usage:
  archive.py BOOTSTRAP produce TOPIC PHASE      produce the records of PHASE (1 or 2)
  archive.py BOOTSTRAP expected TOPIC PHASES    print the records of phases 1..PHASES as JSON
  archive.py BOOTSTRAP consume TOPIC PHASES     read everything back with confluent-kafka
                                                and kafka-python; compare exactly
  archive.py BOOTSTRAP tables TOPIC ROOT PHASES DuckDB (read_parquet) and pyiceberg (a
                                                StaticTable of the newest metadata file)
                                                count and compare the archive's records

Phase 1 spreads keyed records with null keys, null values, repeated and null
headers and set timestamps over two partitions and every codec; phase 2 adds
records with a header key phase 1 never used.
"""

import glob
import json
import os

from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME

from floe_common import (Deliveries, args, assign_from, by_partition, check, check_eq,
                         consume_until_eof, consumer, fail, log, producer)

PARTITIONS = 2
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
COUNTS = {1: 250, 2: 40}
# Long past: older than any floe.archive.after.ms a test sets.
BASE_TS = 1_700_000_000_000


def record(phase, i):
    n = i if phase == 1 else COUNTS[1] + i
    headers = [("seq", str(n).encode())]
    if n % 3 == 0:
        headers += [("dup", b"first"), ("dup", b"second")]
    if n % 5 == 0:
        headers.append(("nullable", None))
    if phase == 2:
        headers.append(("trace-id", f"t-{n}".encode()))
    return {
        "n": n,
        "phase": phase,
        "partition": n % PARTITIONS,
        "key": None if n % 11 == 0 else f"key-{n}".encode(),
        "value": None if n % 7 == 3 else (f"value-{n}-" + "v" * (n % 40)).encode(),
        "headers": headers,
        "timestamp": BASE_TS + n * 13,
        "codec": CODECS[(i * len(CODECS)) // COUNTS[phase]],
    }


def records(phases):
    return [record(p, i) for p in range(1, phases + 1) for i in range(COUNTS[p])]


def produce(bootstrap, topic, phase):
    wanted = [record(phase, i) for i in range(COUNTS[phase])]
    for codec in CODECS:
        batch = [r for r in wanted if r["codec"] == codec]
        p = producer(bootstrap, **{"compression.type": codec, "linger.ms": 5})
        deliveries = Deliveries()
        for j, r in enumerate(batch):
            p.produce(topic, key=r["key"], value=r["value"], partition=r["partition"],
                      headers=r["headers"], timestamp=r["timestamp"],
                      on_delivery=deliveries.callback(j))
            p.poll(0)
        deliveries.wait(p, len(batch))
    log(f"ok: produced {len(wanted)} records of phase {phase}")


def expected_by_partition(phases):
    out = {part: [] for part in range(PARTITIONS)}
    for r in records(phases):
        out[r["partition"]].append(r)
    return out


def consume_confluent(bootstrap, topic, phases):
    expected = expected_by_partition(phases)
    c = consumer(bootstrap)
    assign_from(c, topic, {part: OFFSET_BEGINNING for part in range(PARTITIONS)})
    messages = consume_until_eof(c, range(PARTITIONS))
    c.close()
    got = by_partition(messages)
    for part in range(PARTITIONS):
        msgs = got.get(part, [])
        check_eq(len(msgs), len(expected[part]), f"confluent-kafka records of partition {part}")
        for offset, (m, r) in enumerate(zip(msgs, expected[part])):
            what = f"confluent-kafka partition {part} offset {offset}"
            check_eq(m.offset(), offset, f"{what} offset")
            check_eq(m.key(), r["key"], f"{what} key")
            check_eq(m.value(), r["value"], f"{what} value")
            check_eq(m.headers() or [], r["headers"], f"{what} headers")
            check_eq(m.timestamp(), (TIMESTAMP_CREATE_TIME, r["timestamp"]), f"{what} timestamp")


def consume_kafka_python(bootstrap, topic, phases):
    from kafka import KafkaConsumer, TopicPartition
    expected = expected_by_partition(phases)
    total = sum(len(v) for v in expected.values())
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", consumer_timeout_ms=15000)
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    c.assign(partitions)
    c.seek_to_beginning(*partitions)
    got = {p: [] for p in range(PARTITIONS)}
    for m in c:
        got[m.partition].append(m)
        if sum(len(v) for v in got.values()) == total:
            break
    c.close()
    for part in range(PARTITIONS):
        msgs = got[part]
        check_eq(len(msgs), len(expected[part]), f"kafka-python records of partition {part}")
        for offset, (m, r) in enumerate(zip(msgs, expected[part])):
            what = f"kafka-python partition {part} offset {offset}"
            check_eq((m.offset, m.key, m.value, list(m.headers), m.timestamp, m.timestamp_type),
                     (offset, r["key"], r["value"], r["headers"], r["timestamp"], 0), what)


def newest_metadata(root, topic):
    files = glob.glob(os.path.join(root, "archive", topic, "metadata", "v*.metadata.json"))
    check(files, f"no Iceberg metadata under {root}/archive/{topic}/metadata")
    return max(files, key=lambda f: int(os.path.basename(f)[1:].split(".")[0]))


def tables(topic, root, phases):
    import duckdb
    from pyiceberg.table import StaticTable

    wanted = records(phases)
    by_offset = {}
    for part, rs in expected_by_partition(phases).items():
        for offset, r in enumerate(rs):
            by_offset[(part, offset)] = r

    data = os.path.join(root, "archive", topic, "data", "*.parquet")
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT partition, \"offset\", timestamp, timestamp_type, key, value, "
        f"len(headers), list_transform(headers, lambda h: decode(h.key)) "
        f"FROM read_parquet('{data}') ORDER BY partition, \"offset\"").fetchall()
    check_eq(len(rows), len(wanted), "records DuckDB reads")
    for (part, offset, ts, ts_type, key, value, nheaders, header_keys) in rows:
        r = by_offset[(part, offset)]
        what = f"DuckDB row {part}/{offset}"
        check_eq((ts, ts_type, key, value, nheaders, header_keys),
                 (r["timestamp"], 0, r["key"], r["value"], len(r["headers"]),
                  [k for k, _ in r["headers"]]), what)
    trace = con.execute(
        f"SELECT count(*) FROM read_parquet('{data}') "
        f"WHERE list_contains(list_transform(headers, lambda h: decode(h.key)), 'trace-id')").fetchone()[0]
    check_eq(trace, COUNTS[2] if phases >= 2 else 0, "records with the new header key (DuckDB)")

    metadata = newest_metadata(root, topic)
    table = StaticTable.from_metadata("file://" + metadata)
    arrow = table.scan().to_arrow()
    check_eq(arrow.num_rows, len(wanted), f"records pyiceberg reads from {metadata}")
    got = sorted(zip(arrow.column("partition").to_pylist(), arrow.column("offset").to_pylist(),
                     arrow.column("value").to_pylist()))
    check_eq(got, sorted((p, o, r["value"]) for (p, o), r in by_offset.items()),
             "pyiceberg partitions, offsets and values")
    headers = arrow.column("headers").to_pylist()
    check_eq(sum(len(h) for h in headers), sum(len(r["headers"]) for r in wanted),
             "headers pyiceberg reads")
    log(f"ok: DuckDB and pyiceberg read {len(wanted)} archived records")


def main():
    import sys
    if len(sys.argv) < 3:
        fail("usage: archive.py BOOTSTRAP MODE ...")
    mode = sys.argv[2]
    if mode == "produce":
        bootstrap, _, topic, phase = args(4, "BOOTSTRAP produce TOPIC PHASE")
        produce(bootstrap, topic, int(phase))
    elif mode == "expected":
        _, _, topic, phases = args(4, "BOOTSTRAP expected TOPIC PHASES")
        out = []
        for part, rs in expected_by_partition(int(phases)).items():
            for offset, r in enumerate(rs):
                out.append({"partition": part, "offset": offset,
                            "key": (r["key"] or b"").decode(),
                            "value": (r["value"] or b"").decode()})
        print(json.dumps(out))
    elif mode == "consume":
        bootstrap, _, topic, phases = args(4, "BOOTSTRAP consume TOPIC PHASES")
        consume_confluent(bootstrap, topic, int(phases))
        consume_kafka_python(bootstrap, topic, int(phases))
        log(f"ok: confluent-kafka and kafka-python read {len(records(int(phases)))} records")
    elif mode == "tables":
        _, _, topic, root, phases = args(5, "BOOTSTRAP tables TOPIC ROOT PHASES")
        tables(topic, root, int(phases))
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
