"""With auto-create off, producing to a topic that does not exist fails with
UNKNOWN_TOPIC_OR_PARTITION, and the topic is not created.

usage: unknown_topic.py BOOTSTRAP TOPIC
"""

from confluent_kafka import KafkaError, KafkaException

from floe_common import admin, args, check, check_eq, fail, log, producer

# librdkafka reports the broker's UNKNOWN_TOPIC_OR_PARTITION (3) either as is or as
# its local "unknown topic" (-188) once metadata said the topic does not exist.
ACCEPTED = {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC}


def main():
    bootstrap, topic = args(2, "BOOTSTRAP TOPIC")
    p = producer(bootstrap, **{"topic.metadata.propagation.max.ms": 100,
                               "message.timeout.ms": 20000})
    errors = []
    try:
        p.produce(topic, value=b"nobody-home",
                  on_delivery=lambda err, msg: errors.append(err))
        remaining = p.flush(40)
        check_eq(remaining, 0, "messages left in the producer queue")
    except KafkaException as e:
        errors.append(e.args[0])
    check_eq(len(errors), 1, "delivery reports")
    err = errors[0]
    if err is None:
        fail(f"produce to unknown topic {topic} succeeded")
    check(err.code() in ACCEPTED,
          f"error {err!r} is not UNKNOWN_TOPIC_OR_PARTITION (3) or _UNKNOWN_TOPIC (-188)")

    md = admin(bootstrap).list_topics(topic=topic, timeout=10)
    t = md.topics.get(topic)
    check(t is not None and t.error is not None
          and t.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART,
          f"metadata for {topic} should be UNKNOWN_TOPIC_OR_PARTITION, got "
          f"{None if t is None else (t.error, len(t.partitions))}")
    log(f"ok: produce failed with {err.name()} and the topic was not created")


if __name__ == "__main__":
    main()
