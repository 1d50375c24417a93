"""kafka-python speaking to the broker as to Kafka 0.11 (api_version=(0, 11)):
SaslHandshake v0, so its SASL tokens go as bare size-prefixed frames, not
SaslAuthenticate requests; then it produces and reads back as the user.

usage: sasl_handshake_v0.py BOOTSTRAP TOPIC MECHANISM USER PASSWORD
  the topic must exist (one partition); a wrong password must fail to connect
  when the last argument is prefixed with "wrong:".
"""

import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from floe_common import check_eq, fail, log

COUNT = 10


def settings(mechanism, user, password):
    return {"api_version": (0, 11), "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": mechanism, "sasl_plain_username": user,
            "sasl_plain_password": password}


def main():
    if len(sys.argv) != 6:
        fail(f"usage: {sys.argv[0]} BOOTSTRAP TOPIC MECHANISM USER PASSWORD")
    bootstrap, topic, mechanism, user, password = sys.argv[1:]
    if password.startswith("wrong:"):
        try:
            producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=5000,
                                     **settings(mechanism, user, password[len("wrong:"):]))
            producer.send(topic, b"no").get(timeout=10)
        except KafkaError as e:
            log(f"refused: {e!r}")
            return
        fail("a wrong password produced")
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings(mechanism, user, password))
    for i in range(COUNT):
        producer.send(topic, value=f"v{i}".encode(), partition=0)
    producer.flush(60)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=20000,
                             auto_offset_reset="earliest", **settings(mechanism, user, password))
    consumer.assign([TopicPartition(topic, 0)])
    seen = []
    for msg in consumer:
        seen.append(msg.value.decode())
        if len(seen) == COUNT:
            break
    consumer.close()
    check_eq(seen, [f"v{i}" for i in range(COUNT)], "values read back")
    log("ok")


if __name__ == "__main__":
    main()
