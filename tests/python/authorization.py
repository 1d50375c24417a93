"""Clients against an agent that enforces ACLs (`--authorizer acl`): what a
principal without the right ACLs sees, and that the right ACLs serve it.

usage: authorization.py BOOTSTRAP SCENARIO CONFIG_JSON ARGS...

Scenarios:
  denied-confluent TOPIC GROUP   producer and consumer get TOPIC/GROUP
                                 authorization errors, and no data
  denied-kafka-python TOPIC GROUP
  produce-ok TOPIC N             N records produced (confluent)
  produce-denied TOPIC           TOPIC_AUTHORIZATION_FAILED on delivery
  visible EXPECTED,... HIDDEN,...  list_topics shows the first, not the second
  consume TOPIC GROUP N          a group consumer reads exactly N records
  consume-group-denied TOPIC GROUP  the group consumer gets
                                 GROUP_AUTHORIZATION_FAILED and no records
  txn-denied TXN_ID              init_transactions fails with
                                 TRANSACTIONAL_ID_AUTHORIZATION_FAILED
  txn-ok TXN_ID TOPIC N          a transaction of N records commits
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from floe_common import check, check_eq, fail, log


def conf(bootstrap, security, **extra):
    return {"bootstrap.servers": bootstrap, **security, **extra}


def produce(bootstrap, security, topic, count):
    """Produces `count` records; returns the delivery errors (None for ok)."""
    errors = []
    producer = Producer(conf(bootstrap, security, **{"message.timeout.ms": 15000,
                                                    "error_cb": errors.append}))
    delivered = []
    for i in range(count):
        producer.produce(topic, key=str(i).encode(), value=f"record-{i}".encode(),
                         on_delivery=lambda err, msg: delivered.append(err))
    producer.flush(30)
    check_eq(len(delivered), count, "delivery reports")
    return delivered, errors


def produce_ok(bootstrap, security, topic, count):
    delivered, _ = produce(bootstrap, security, topic, int(count))
    bad = [e for e in delivered if e is not None]
    check(not bad, f"deliveries to {topic} failed: {bad[:3]}")
    log(f"produced {count} to {topic}")


def produce_denied(bootstrap, security, topic):
    delivered, errors = produce(bootstrap, security, topic, 1)
    err = delivered[0]
    check(err is not None, f"a record was delivered to {topic}")
    check_eq(err.code(), KafkaError.TOPIC_AUTHORIZATION_FAILED, f"delivery error for {topic}")
    log(f"denied on {topic}: {err}")


def consume(bootstrap, security, topic, group, count, deadline_s=60):
    """Reads until `count` records or an error; returns (records, errors)."""
    consumer = Consumer(conf(bootstrap, security, **{
        "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    consumer.subscribe([topic])
    records, errors = [], []
    deadline = time.time() + deadline_s
    try:
        while time.time() < deadline and len(records) < count:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                errors.append(msg.error())
                if msg.error().code() in (KafkaError.GROUP_AUTHORIZATION_FAILED,
                                          KafkaError.TOPIC_AUTHORIZATION_FAILED):
                    break
                continue
            records.append(msg.value())
    finally:
        consumer.close()
    return records, errors


def consume_ok(bootstrap, security, topic, group, count):
    count = int(count)
    records, errors = consume(bootstrap, security, topic, group, count)
    check_eq(len(records), count, f"records read from {topic} (errors: {errors[:3]})")
    check_eq(sorted(records), sorted(f"record-{i}".encode() for i in range(count)),
             "records read")
    log(f"consumed {count} from {topic} in {group}")


def consume_group_denied(bootstrap, security, topic, group):
    records, errors = consume(bootstrap, security, topic, group, 1, deadline_s=30)
    check(not records, f"read {len(records)} records without group READ")
    codes = [e.code() for e in errors]
    check(KafkaError.GROUP_AUTHORIZATION_FAILED in codes,
          f"no GROUP_AUTHORIZATION_FAILED: {errors[:3]}")
    log(f"group {group} denied: {errors[0]}")


def visible(bootstrap, security, expected, hidden):
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(conf(bootstrap, security))
    names = set(admin.list_topics(timeout=20).topics)
    for name in filter(None, expected.split(",")):
        check(name in names, f"{name} not listed: {sorted(names)}")
    for name in filter(None, hidden.split(",")):
        check(name not in names, f"{name} listed though not describable: {sorted(names)}")
    log(f"listed {sorted(names)}")


def denied_confluent(bootstrap, security, topic, group):
    produce_denied(bootstrap, security, topic)
    records, errors = consume(bootstrap, security, topic, group, 1, deadline_s=30)
    check(not records, f"read {len(records)} records without ACLs")
    codes = {e.code() for e in errors}
    check(codes & {KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED},
          f"consumer saw no authorization error: {errors[:3]}")
    log(f"consumer denied: {errors[0]}")


def denied_kafka_python(bootstrap, security, topic, group):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.errors import (GroupAuthorizationFailedError, KafkaError as PyKafkaError,
                              TopicAuthorizationFailedError)

    sasl = {"security_protocol": security["security.protocol"],
            "sasl_mechanism": security["sasl.mechanism"],
            "sasl_plain_username": security["sasl.username"],
            "sasl_plain_password": security["sasl.password"]}
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=10000, **sasl)
    try:
        producer.send(topic, b"must not be stored").get(timeout=15)
        fail("kafka-python produced without WRITE")
    except TopicAuthorizationFailedError as e:
        log(f"kafka-python producer denied: {e!r}")
    finally:
        producer.close(timeout=5)

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000, **sasl)
    consumer.subscribe([topic])
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            polled = consumer.poll(timeout_ms=500)
            check(not any(polled.values()), "kafka-python consumer read records without ACLs")
        fail("kafka-python consumer saw no authorization error")
    except (TopicAuthorizationFailedError, GroupAuthorizationFailedError) as e:
        log(f"kafka-python consumer denied: {e!r}")
    except PyKafkaError as e:
        fail(f"kafka-python consumer failed otherwise: {e!r}")
    finally:
        consumer.close()


def txn_denied(bootstrap, security, txn_id):
    producer = Producer(conf(bootstrap, security, **{"transactional.id": txn_id,
                                                    "transaction.timeout.ms": 10000}))
    try:
        producer.init_transactions(20)
    except KafkaException as e:
        err = e.args[0]
        check_eq(err.code(), KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                 "init_transactions error")
        log(f"init_transactions denied: {err}")
        return
    fail("init_transactions succeeded without TRANSACTIONAL_ID WRITE")


def txn_ok(bootstrap, security, txn_id, topic, count):
    producer = Producer(conf(bootstrap, security, **{"transactional.id": txn_id,
                                                    "transaction.timeout.ms": 10000}))
    producer.init_transactions(20)
    producer.begin_transaction()
    for i in range(int(count)):
        producer.produce(topic, key=str(i).encode(), value=f"record-{i}".encode())
    producer.commit_transaction(30)
    log(f"committed {count} records to {topic} as {txn_id}")


SCENARIOS = {
    "denied-confluent": denied_confluent,
    "denied-kafka-python": denied_kafka_python,
    "produce-ok": produce_ok,
    "produce-denied": produce_denied,
    "visible": visible,
    "consume": consume_ok,
    "consume-group-denied": consume_group_denied,
    "txn-denied": txn_denied,
    "txn-ok": txn_ok,
}


def main():
    if len(sys.argv) < 4:
        fail(f"usage: {sys.argv[0]} BOOTSTRAP SCENARIO CONFIG_JSON ARGS...")
    bootstrap, scenario, config, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    SCENARIOS[scenario](bootstrap, json.loads(config), *rest)


if __name__ == "__main__":
    main()
