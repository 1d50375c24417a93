"""The client-matrix scenario's data and its one-JSON-line-per-step output, shared by
the Python programs beside this file (confluent-kafka, kafka-python, aiokafka).

Every family's program (tests/clients/*) writes the same records and reports the same
steps with the same details, so tests/tests/client_matrix.rs compares them all against
one expectation. Keep these constants identical to the other languages' copies.
"""

import json
import sys
import time
import traceback

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PER_CODEC = 5
TOTAL = len(CODECS) * PER_CODEC
PARTITIONS = 3
MORE_PARTITIONS = 5
CREATE_CONFIGS = {"retention.ms": "86400000", "cleanup.policy": "delete"}
ALTERED_RETENTION = "7200000"
DELETE_BEFORE = 10
FIND_INDEX = 15
STEP_TIMEOUT = 30.0


def base_timestamp():
    """Ten minutes ago, whole seconds: record i is stamped base + i seconds."""
    return (int(time.time()) - 600) * 1000


def expected(base):
    """The records in partition 0, in offset order: (key, value, headers, timestamp)."""
    out = []
    for i in range(TOTAL):
        codec = CODECS[i // PER_CODEC]
        out.append(
            (
                f"key-{i}".encode(),
                f"value-{codec}-{i}".encode(),
                [("codec", codec.encode()), ("index", str(i).encode())],
                base + i * 1000,
            )
        )
    return out


def check_records(got, base):
    """got: list of (offset, key, value, headers, timestamp); returns None or the first
    difference from the expected records."""
    want = expected(base)
    if len(got) != len(want):
        return f"read {len(got)} records, want {len(want)}"
    for i, (rec, exp) in enumerate(zip(got, want)):
        offset, key, value, headers, ts = rec
        headers = [(k, bytes(v) if v is not None else None) for k, v in headers]
        if (offset, key, value, headers, ts) != (i, exp[0], exp[1], exp[2], exp[3]):
            return f"record {i}: got {(offset, key, value, headers, ts)!r}, want {(i,) + exp!r}"
    return None


def report(step, ok, detail):
    print(json.dumps({"step": step, "ok": ok, "detail": detail}), flush=True)


def run_step(step, fn):
    """Runs fn() -> detail; an exception reports the step failed with its message."""
    try:
        report(step, True, fn())
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        report(step, False, f"{type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stderr)


def wait_for(what, fn, timeout=STEP_TIMEOUT):
    """Polls fn() until it returns a true value; raises with `what` on timeout."""
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.2)
