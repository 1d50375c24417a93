"""Consumer groups with confluent-kafka (cooperative-sticky) and kafka-python,
plus the group admin APIs.

1. Two confluent-kafka consumers with partition.assignment.strategy=
   cooperative-sticky split 6 partitions 3/3 by incremental rebalances, read
   every record exactly once between them, commit, and when one leaves the
   other takes all 6 back.
2. The group is listed and described (members, assignments) by AdminClient,
   cannot be deleted while it has members, and can be once it is empty.
3. kafka-python's KafkaConsumer(group_id=...) reads everything, commits,
   and a second consumer of the group resumes after the commit.

usage: groups_clients.py BOOTSTRAP
"""

import time
import uuid

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import Consumer, TopicPartition

from floe_common import admin, args, check, check_eq, create_topics, fail, log
from floe_common import Producer

PARTITIONS = 6
COUNT = 120


def produce(bootstrap, topic, start, count):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(start, start + count):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                  partition=i % PARTITIONS)
    check_eq(p.flush(30), 0, "records left unflushed")


def consumer(bootstrap, group):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "partition.assignment.strategy": "cooperative-sticky",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 1000,
    })


def poll_all(consumers, seen, until, deadline_s=60):
    """Polls every consumer in turn until `until()` holds."""
    deadline = time.time() + deadline_s
    while not until():
        if time.time() > deadline:
            fail("timed out: " + ", ".join(
                f"{c.memberid()}: {sorted(tp.partition for tp in c.assignment())}"
                for c in consumers))
        for c in consumers:
            m = c.poll(0.1)
            if m is None:
                continue
            if m.error():
                fail(f"consumer error: {m.error()}")
            seen.append(m.value().decode())
            c.commit(message=m, asynchronous=False)


def cooperative(bootstrap):
    topic = f"groups-coop-{uuid.uuid4().hex[:8]}"
    group = f"coop-{uuid.uuid4().hex[:8]}"
    create_topics(bootstrap, {topic: PARTITIONS})
    produce(bootstrap, topic, 0, COUNT)

    a, b = consumer(bootstrap, group), consumer(bootstrap, group)
    a.subscribe([topic])
    seen = []
    poll_all([a], seen, lambda: len(a.assignment()) == PARTITIONS)
    log("cooperative: a has all 6 partitions")
    b.subscribe([topic])
    poll_all([a, b], seen,
             lambda: len(a.assignment()) == 3 and len(b.assignment()) == 3)
    owned = sorted(tp.partition for tp in a.assignment() + b.assignment())
    check_eq(owned, list(range(PARTITIONS)), "partitions owned by a and b")
    log("cooperative: split 3/3")
    poll_all([a, b], seen, lambda: len(seen) >= COUNT)
    time.sleep(1)
    poll_all([a, b], seen, lambda: True)
    check_eq(sorted(seen), sorted(f"v{i}" for i in range(COUNT)),
             "records read by the group")

    client = admin(bootstrap)
    listed = client.list_consumer_groups(request_timeout=10).result()
    ids = {g.group_id: g for g in listed.valid}
    check(group in ids, f"group {group} listed: {sorted(ids)}")
    described = client.describe_consumer_groups([group])[group].result()
    check_eq(len(described.members), 2, "described members")
    assigned = sorted(tp.partition for m in described.members
                      for tp in m.assignment.topic_partitions)
    check_eq(assigned, list(range(PARTITIONS)), "described assignments")
    check_eq(str(described.state), "ConsumerGroupState.STABLE", "described state")
    try:
        client.delete_consumer_groups([group])[group].result()
        fail("deleting a group with members succeeded")
    except KafkaException as e:
        check("NON_EMPTY_GROUP" in str(e) or "not empty" in str(e),
              f"delete of a live group: {e}")

    b.close()
    poll_all([a], seen, lambda: len(a.assignment()) == PARTITIONS)
    log("cooperative: a took all 6 back")
    committed = a.committed([TopicPartition(topic, p) for p in range(PARTITIONS)],
                            timeout=10)
    check_eq(sum(tp.offset for tp in committed), COUNT, "committed offsets")
    a.close()

    offsets = client.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group)])[group].result()
    check_eq(sum(tp.offset for tp in offsets.topic_partitions), COUNT,
             "offsets listed by AdminClient")
    client.delete_consumer_groups([group])[group].result()
    after = client.list_consumer_groups(request_timeout=10).result()
    check(group not in {g.group_id for g in after.valid}, "deleted group listed")
    log("cooperative: ok")
    return topic


def kafka_python(bootstrap, topic):
    from kafka import KafkaConsumer

    group = f"kp-{uuid.uuid4().hex[:8]}"

    def read(expected):
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          consumer_timeout_ms=8000)
        got = [m.value.decode() for m in c]
        c.commit()
        c.close()
        check_eq(sorted(got), sorted(expected), "kafka-python records")

    read([f"v{i}" for i in range(COUNT)])
    produce(bootstrap, topic, COUNT, 10)
    read([f"v{i}" for i in range(COUNT, COUNT + 10)])
    log("kafka-python: resumed after its commit")


def main():
    (bootstrap,) = args(1, "BOOTSTRAP")
    topic = cooperative(bootstrap)
    kafka_python(bootstrap, topic)
    log("ok")


if __name__ == "__main__":
    main()
