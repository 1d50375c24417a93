"""Consumer-group scenarios with confluent-kafka (librdkafka 2.16), one per command.

  split TOPIC GROUP          3 consumers split 6 partitions 2/2/2, read every
                             record exactly once between them.
  leave TOPIC GROUP          as split, then one member closes: its partitions
                             move to the other two, which read every later record.
  cooperative TOPIC GROUP    cooperative-sticky: a third member joining a group
                             of two revokes only the partitions that move to it.
  static TOPIC GROUP         static membership: a member closed without leaving
                             and restarted with the same group.instance.id gets
                             its partitions back; the other member sees no revoke.
  commit TOPIC GROUP STATE   reads part of the topic, commits and
                             writes what it read to STATE (JSON).
  resume TOPIC GROUP STATE   a new consumer of the group sees the committed
                             offsets and reads exactly the rest.
  metadata TOPIC GROUP       offsets committed with metadata strings come back
                             with them from committed().
  failover TOPIC GROUP DIR   after 100 records creates DIR/ready and waits for
                             DIR/killed (the test kills the coordinator); the
                             group still reads every record, none skipped.

usage: group_scenarios.py BOOTSTRAP COMMAND ARGS...
"""

import json
import os
import sys
import time

from confluent_kafka import Consumer, TopicPartition

from floe_common import check, check_eq, create_topics, fail, log, producer

PARTITIONS = 6


def produce(bootstrap, topic, start, count):
    """Produces values v{start}..v{start+count-1}, record i to partition i % 6."""
    p = producer(bootstrap, **{"linger.ms": 5})
    for i in range(start, start + count):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                  partition=i % PARTITIONS)
    check_eq(p.flush(60), 0, "records left unflushed")


def values(start, count):
    return sorted(f"v{i}" for i in range(start, start + count))


class Member:
    """One consumer plus the partitions its rebalance callbacks saw."""

    def __init__(self, name, bootstrap, group, **extra):
        config = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 500,
        }
        config.update(extra)
        self.name = name
        self.consumer = Consumer(config)
        self.assigned_events = []
        self.revoked_events = []
        self.closed = False

    def subscribe(self, topic):
        def on_assign(_c, parts):
            self.assigned_events.append(sorted(tp.partition for tp in parts))

        def on_revoke(_c, parts):
            self.revoked_events.append(sorted(tp.partition for tp in parts))

        self.consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)

    def owned(self):
        return sorted(tp.partition for tp in self.consumer.assignment())

    def close(self):
        self.consumer.close()
        self.closed = True

    def __repr__(self):
        return (f"{self.name}(owned={self.owned() if not self.closed else 'closed'}, "
                f"assigned={self.assigned_events}, revoked={self.revoked_events})")


def poll_all(members, seen, until, deadline_s=60, commit=True):
    """Polls every open member in turn until `until()` holds; every record read
    goes to `seen` as (member name, value) and is committed synchronously."""
    deadline = time.time() + deadline_s
    while not until():
        if time.time() > deadline:
            fail(f"timed out after {deadline_s}s; seen {len(seen)}; members {members}")
        for m in members:
            if m.closed:
                continue
            msg = m.consumer.poll(0.1)
            if msg is None:
                continue
            if msg.error():
                fail(f"{m.name}: consumer error: {msg.error()}")
            seen.append((m.name, msg.value().decode()))
            if commit:
                m.consumer.commit(message=msg, asynchronous=False)


def settle(members, seen, seconds):
    """Keeps polling for a while (so late duplicates or rebalances would show)."""
    end = time.time() + seconds
    poll_all(members, seen, lambda: time.time() > end)


def owned_exactly(members, sizes):
    """Whether the open members own disjoint sets covering all partitions, of sizes."""
    open_ = [m for m in members if not m.closed]
    owned = [m.owned() for m in open_]
    flat = sorted(p for o in owned for p in o)
    return flat == list(range(PARTITIONS)) and sorted(len(o) for o in owned) == sorted(sizes)


def check_exactly_once(seen, expected, what):
    got = sorted(v for _, v in seen)
    if got != expected:
        dup = sorted({v for v in got if got.count(v) > 1})
        missing = sorted(set(expected) - set(got))
        fail(f"{what}: {len(got)} records read, expected {len(expected)}; "
             f"duplicates {dup[:10]}, missing {missing[:10]}")


def three_member_group(bootstrap, topic, group):
    create_topics(bootstrap, {topic: PARTITIONS})
    members = [Member(n, bootstrap, group) for n in ("a", "b", "c")]
    for m in members:
        m.subscribe(topic)
    seen = []
    poll_all(members, seen, lambda: owned_exactly(members, [2, 2, 2]))
    log(f"split 2/2/2: {members}")
    check_eq(seen, [], "records read before anything was produced")
    produce(bootstrap, topic, 0, 120)
    poll_all(members, seen, lambda: len(seen) >= 120)
    settle(members, seen, 2)
    check(owned_exactly(members, [2, 2, 2]), f"assignment changed: {members}")
    check_exactly_once(seen, values(0, 120), "records read by the group")
    for m in members:
        parts = set(m.owned())
        for name, v in seen:
            if name == m.name:
                check(int(v[1:]) % PARTITIONS in parts,
                      f"{m.name} read {v} of a partition it does not own: {members}")
    return members, seen


def cmd_split(bootstrap, topic, group):
    members, _ = three_member_group(bootstrap, topic, group)
    for m in members:
        m.close()


def cmd_leave(bootstrap, topic, group):
    members, _ = three_member_group(bootstrap, topic, group)
    a, b, c = members
    gone = c.owned()
    c.close()
    seen = []
    poll_all([a, b], seen, lambda: owned_exactly([a, b], [3, 3]))
    log(f"after c left (had {gone}): {members}")
    check(set(gone) <= set(a.owned()) | set(b.owned()), "c's partitions not taken over")
    produce(bootstrap, topic, 120, 60)
    poll_all([a, b], seen, lambda: len(seen) >= 60)
    settle([a, b], seen, 2)
    check_exactly_once(seen, values(120, 60), "records read after c left")
    a.close()
    b.close()


def cmd_cooperative(bootstrap, topic, group):
    create_topics(bootstrap, {topic: PARTITIONS})
    coop = {"partition.assignment.strategy": "cooperative-sticky"}
    a = Member("a", bootstrap, group, **coop)
    b = Member("b", bootstrap, group, **coop)
    a.subscribe(topic)
    b.subscribe(topic)
    seen = []
    poll_all([a, b], seen, lambda: owned_exactly([a, b], [3, 3]))
    before = {m.name: set(m.owned()) for m in (a, b)}
    revoked_before = {m.name: len(m.revoked_events) for m in (a, b)}
    log(f"two members: {a} {b}")
    produce(bootstrap, topic, 0, 60)
    poll_all([a, b], seen, lambda: len(seen) >= 60)

    c = Member("c", bootstrap, group, **coop)
    c.subscribe(topic)
    poll_all([a, b, c], seen, lambda: owned_exactly([a, b, c], [2, 2, 2]))
    settle([a, b, c], seen, 2)
    check(owned_exactly([a, b, c], [2, 2, 2]), f"assignment changed: {a} {b} {c}")
    log(f"three members: {a} {b} {c}")
    moved = set(c.owned())
    for m in (a, b):
        kept = set(m.owned())
        check(kept <= before[m.name], f"{m.name} gained partitions: {m}")
        revoked = [p for ev in m.revoked_events[revoked_before[m.name]:] for p in ev]
        check(set(revoked) <= moved,
              f"{m.name} had partitions revoked that did not move to c: {m} c={c}")
        check(kept.isdisjoint(revoked), f"{m.name} had kept partitions revoked: {m}")
        check_eq(sorted(revoked), sorted(before[m.name] - kept),
                 f"partitions revoked from {m.name}")
        # Incremental: no assign callback ever re-delivered a partition already held.
        later_assigns = [p for ev in m.assigned_events[1:] for p in ev]
        check(set(later_assigns).isdisjoint(kept), f"{m.name} re-assigned kept partitions: {m}")
    check_eq(sorted(p for ev in c.assigned_events for p in ev), sorted(moved),
             "partitions assigned to c")
    check_eq(c.revoked_events, [], "revokes seen by c")
    produce(bootstrap, topic, 60, 60)
    poll_all([a, b, c], seen, lambda: len(seen) >= 120)
    settle([a, b, c], seen, 2)
    check_exactly_once(seen, values(0, 120), "records read by the group")
    for m in (a, b, c):
        m.close()


def cmd_static(bootstrap, topic, group):
    create_topics(bootstrap, {topic: PARTITIONS})
    static = {"session.timeout.ms": 30000}
    a = Member("a", bootstrap, group, **{"group.instance.id": "inst-a"}, **static)
    b = Member("b", bootstrap, group, **{"group.instance.id": "inst-b"}, **static)
    a.subscribe(topic)
    b.subscribe(topic)
    seen = []
    poll_all([a, b], seen, lambda: owned_exactly([a, b], [3, 3]))
    produce(bootstrap, topic, 0, 60)
    poll_all([a, b], seen, lambda: len(seen) >= 60)
    check_exactly_once(seen, values(0, 60), "records read before the restart")
    a_parts, b_parts = a.owned(), b.owned()
    b_events = (list(b.assigned_events), list(b.revoked_events))
    log(f"before: {a} {b}")
    # A static member's close() sends no LeaveGroup: the group keeps its slot.
    a.close()
    seen = []
    settle([b], seen, 1)
    a2 = Member("a2", bootstrap, group, **{"group.instance.id": "inst-a"}, **static)
    a2.subscribe(topic)
    poll_all([a2, b], seen, lambda: a2.owned() == a_parts)
    produce(bootstrap, topic, 60, 60)
    poll_all([a2, b], seen, lambda: len(seen) >= 60)
    settle([a2, b], seen, 3)
    log(f"after: {a2} {b}")
    check_eq(a2.owned(), a_parts, "partitions of the restarted static member")
    check_eq(b.owned(), b_parts, "partitions of the other member")
    check_eq((b.assigned_events, b.revoked_events), b_events,
             "rebalance callbacks of the other member after the restart")
    check_eq(a2.revoked_events, [], "revokes seen by the restarted member")
    check_exactly_once(seen, values(60, 60), "records read after the restart")
    a2.close()
    b.close()


def cmd_commit(bootstrap, topic, group, state):
    create_topics(bootstrap, {topic: PARTITIONS})
    produce(bootstrap, topic, 0, 120)
    m = Member("a", bootstrap, group)
    m.subscribe(topic)
    seen = []
    positions = {}
    deadline = time.time() + 60
    # Read 10 records of every partition (offsets 0..9), commit offset 10 with metadata.
    while len(positions) < PARTITIONS or any(o < 10 for o in positions.values()):
        check(time.time() < deadline, f"timed out: {positions} {m}")
        msg = m.consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            fail(f"consumer error: {msg.error()}")
        p = msg.partition()
        if positions.get(p, 0) >= 10:
            continue
        check_eq(msg.offset(), positions.get(p, 0), f"offset read from partition {p}")
        seen.append(msg.value().decode())
        positions[p] = msg.offset() + 1
    m.consumer.commit(offsets=[TopicPartition(topic, p, 10) for p in range(PARTITIONS)],
                      asynchronous=False)
    committed = m.consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)],
                                     timeout=10)
    check_eq([tp.offset for tp in committed], [10] * PARTITIONS, "committed offsets")
    m.close()
    with open(state, "w") as f:
        json.dump(seen, f)
    log(f"read {len(seen)} records, committed offset 10 on every partition")


def cmd_resume(bootstrap, topic, group, state):
    with open(state) as f:
        before = json.load(f)
    m = Member("a", bootstrap, group)
    committed = m.consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)],
                                     timeout=30)
    check_eq([tp.offset for tp in committed], [10] * PARTITIONS,
             "committed offsets after the restart")
    m.subscribe(topic)
    seen = []
    first = {}

    def until():
        return len(seen) >= 120 - len(before)

    deadline = time.time() + 60
    while not until():
        check(time.time() < deadline, f"timed out: {len(seen)} read, {m}")
        msg = m.consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            fail(f"consumer error: {msg.error()}")
        first.setdefault(msg.partition(), msg.offset())
        seen.append(msg.value().decode())
    end = time.time() + 2
    while time.time() < end:
        msg = m.consumer.poll(0.2)
        if msg is not None and not msg.error():
            seen.append(msg.value().decode())
    check_eq(first, {p: 10 for p in range(PARTITIONS)}, "first offset read per partition")
    check_eq(sorted(before + seen), values(0, 120), "records read before + after")
    m.close()
    log("resumed at the committed offsets")


def cmd_metadata(bootstrap, topic, group):
    create_topics(bootstrap, {topic: PARTITIONS})
    produce(bootstrap, topic, 0, 12)
    m = Member("a", bootstrap, group)
    m.subscribe(topic)
    seen = []
    poll_all([m], seen, lambda: len(seen) >= 12, commit=False)
    m.consumer.commit(offsets=[TopicPartition(topic, p, 2, metadata=f"m-{p}")
                               for p in range(PARTITIONS)], asynchronous=False)
    committed = m.consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)],
                                     timeout=10)
    check_eq([(tp.offset, tp.metadata) for tp in committed],
             [(2, f"m-{p}") for p in range(PARTITIONS)], "committed offsets and metadata")
    m.close()


def cmd_failover(bootstrap, topic, group, sync_dir):
    create_topics(bootstrap, {topic: PARTITIONS})
    produce(bootstrap, topic, 0, 600)
    log("produced 600 records")
    members = [Member(n, bootstrap, group, **{"max.partition.fetch.bytes": 200})
               for n in ("a", "b")]
    for m in members:
        m.subscribe(topic)
    seen = []
    poll_all(members, seen, lambda: len(seen) >= 100, deadline_s=90)
    log(f"read {len(seen)} records: {members}")
    # The test kills the coordinator now (it finds it with FindCoordinator).
    open(os.path.join(sync_dir, "ready"), "w").close()
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(sync_dir, "killed")):
        check(time.time() < deadline, "the test never killed the coordinator")
        time.sleep(0.1)
    log("coordinator killed")
    poll_all(members, seen, lambda: len({v for _, v in seen}) >= 600, deadline_s=120)
    settle(members, seen, 2)
    got = {v for _, v in seen}
    check_eq(sorted(got), values(0, 600), "distinct records read by the group")
    log(f"read {len(seen)} records ({len(seen) - 600} re-read) across the kill")
    # The survivors' committed offsets cover the whole topic: nothing skipped.
    committed = members[0].consumer.committed(
        [TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
    check_eq([tp.offset for tp in committed], [100] * PARTITIONS, "committed offsets")
    for m in members:
        m.close()


COMMANDS = {
    "split": cmd_split,
    "leave": cmd_leave,
    "cooperative": cmd_cooperative,
    "static": cmd_static,
    "commit": cmd_commit,
    "resume": cmd_resume,
    "metadata": cmd_metadata,
    "failover": cmd_failover,
}


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in COMMANDS:
        fail(f"usage: {sys.argv[0]} BOOTSTRAP {'|'.join(COMMANDS)} ARGS...")
    bootstrap, command = sys.argv[1], sys.argv[2]
    COMMANDS[command](bootstrap, *sys.argv[3:])
    log("ok")


if __name__ == "__main__":
    main()
