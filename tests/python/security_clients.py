"""A client over a secured listener: an admin call (create a topic, describe it),
produce, and consume in a group, with confluent-kafka or kafka-python.

usage: security_clients.py BOOTSTRAP CLIENT TOPIC CONFIG_JSON
  CLIENT       confluent | kafka-python
  CONFIG_JSON  security settings in librdkafka's names (security.protocol,
               ssl.ca.location, ssl.certificate.location, ssl.key.location,
               sasl.mechanism, sasl.username, sasl.password); kafka-python gets
               the same settings under its own names.
"""

import json

from floe_common import args, check_eq, fail, log

COUNT = 50


def confluent(bootstrap, topic, security):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    conf = {"bootstrap.servers": bootstrap, **security}
    admin = AdminClient(conf)
    futures = admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    futures[topic].result(timeout=60)
    described = admin.list_topics(topic=topic, timeout=30).topics[topic]
    check_eq(described.error, None, "describe error")
    check_eq(len(described.partitions), 2, "partitions described")

    producer = Producer(conf)
    for i in range(COUNT):
        producer.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 2)
    check_eq(producer.flush(60), 0, "records left unflushed")

    consumer = Consumer({**conf, "group.id": f"{topic}-group", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen = set()
    for _ in range(600):
        msg = consumer.poll(0.5)
        if msg is None:
            if len(seen) == COUNT:
                break
            continue
        if msg.error():
            fail(f"consume error: {msg.error()}")
        seen.add(msg.value().decode())
        if len(seen) == COUNT:
            break
    consumer.commit(asynchronous=False)
    consumer.close()
    check_eq(seen, {f"v{i}" for i in range(COUNT)}, "values consumed")


KAFKA_PYTHON_NAMES = {
    "security.protocol": "security_protocol",
    "ssl.ca.location": "ssl_cafile",
    "ssl.certificate.location": "ssl_certfile",
    "ssl.key.location": "ssl_keyfile",
    "sasl.mechanism": "sasl_mechanism",
    "sasl.username": "sasl_plain_username",
    "sasl.password": "sasl_plain_password",
}


def kafka_python(bootstrap, topic, security):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import NewTopic

    conf = {"bootstrap_servers": bootstrap}
    for key, value in security.items():
        conf[KAFKA_PYTHON_NAMES[key]] = value
    if "ssl_cafile" in conf:
        conf["ssl_check_hostname"] = True
    admin = KafkaAdminClient(**conf)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    described = admin.describe_topics([topic])
    check_eq(described[0]["error_code"], 0, "describe error")
    check_eq(len(described[0]["partitions"]), 2, "partitions described")
    admin.close()

    producer = KafkaProducer(**conf)
    for i in range(COUNT):
        producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 2)
    producer.flush(60)
    producer.close()

    consumer = KafkaConsumer(topic, group_id=f"{topic}-group", auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=30000, **conf)
    seen = set()
    for msg in consumer:
        seen.add(msg.value.decode())
        if len(seen) == COUNT:
            break
    consumer.commit()
    consumer.close()
    check_eq(seen, {f"v{i}" for i in range(COUNT)}, "values consumed")


def main():
    bootstrap, client, topic, config = args(4, "BOOTSTRAP CLIENT TOPIC CONFIG_JSON")
    security = json.loads(config)
    if client == "confluent":
        confluent(bootstrap, topic, security)
    elif client == "kafka-python":
        kafka_python(bootstrap, topic, security)
    else:
        fail(f"unknown client {client}")
    log(f"ok: {client} over {security.get('security.protocol')}")


if __name__ == "__main__":
    main()
