"""A client with wrong credentials: its produce fails with an authentication
error and stores nothing (the caller checks the topic over another listener).

usage: security_denied.py BOOTSTRAP CLIENT TOPIC CONFIG_JSON
"""

import json

from floe_common import args, check, fail, log


def confluent(bootstrap, topic, security):
    from confluent_kafka import KafkaError, Producer

    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, "message.timeout.ms": 10000,
                         "error_cb": errors.append, **security})
    delivered = []
    producer.produce(topic, value=b"must not be stored",
                     on_delivery=lambda err, msg: delivered.append(err))
    producer.flush(30)
    check(delivered and delivered[0] is not None, f"a record was delivered: {delivered}")
    auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    check(auth, f"no authentication error reported: {errors}")
    text = str(auth[0])
    check("Authentication failed" in text, f"not Kafka's failure message: {text}")
    log(f"denied: {text}")


def kafka_python(bootstrap, topic, security):
    import logging

    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    # kafka-python retries a failed authentication until its deadline; the
    # broker's answer shows in its log.
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logging.getLogger("kafka").addHandler(Collect())
    logging.getLogger("kafka").setLevel(logging.INFO)
    conf = {"bootstrap_servers": bootstrap, "security_protocol": security["security.protocol"],
            "sasl_mechanism": security["sasl.mechanism"],
            "sasl_plain_username": security["sasl.username"],
            "sasl_plain_password": security["sasl.password"], "max_block_ms": 8000}
    if "ssl.ca.location" in security:
        conf["ssl_cafile"] = security["ssl.ca.location"]
    try:
        producer = KafkaProducer(**conf)
        producer.send(topic, b"must not be stored").get(timeout=10)
    except KafkaError as e:
        failed = [m for m in seen if "Authentication failed" in m]
        check(failed, f"no authentication failure logged ({e!r}): {seen[-5:]}")
        log(f"denied: {failed[0]}")
        return
    fail("kafka-python produced with wrong credentials")


def main():
    bootstrap, client, topic, config = args(4, "BOOTSTRAP CLIENT TOPIC CONFIG_JSON")
    security = json.loads(config)
    {"confluent": confluent, "kafka-python": kafka_python}[client](bootstrap, topic, security)


if __name__ == "__main__":
    main()
