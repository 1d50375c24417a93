"""Topic configs through kafka-python's KafkaAdminClient (its own codec):
describe with synonyms, alter (replacing the whole set), create refused
for an unknown name and a bad value.

usage: kafka_python_configs.py BOOTSTRAP PREFIX
"""

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import InvalidConfigurationError

from floe_common import args, check, check_eq, fail, log

TOPIC_CONFIG = 1
DYNAMIC_DEFAULT_BROKER_CONFIG = 3
DEFAULT_CONFIG = 5


def describe(client, topic):
    (response,) = client.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic)], include_synonyms=True)
    (resource,) = response.resources
    error_code, error_message = resource[0], resource[1]
    check_eq(error_code, 0, f"describe {topic} ({error_message})")
    check(error_message is None, f"describe {topic}: message {error_message!r}, Kafka sends null")
    return {entry[0]: entry for entry in resource[4]}


def expect_invalid_config(topic, config, text, client):
    try:
        client.create_topics([NewTopic(topic, 1, 1, topic_configs=config)])
    except InvalidConfigurationError as e:
        check(text in str(e), f"create {topic}: {e} lacks {text!r}")
        return
    fail(f"create {topic} with {config} succeeded")


def main():
    bootstrap, prefix = args(2, "BOOTSTRAP PREFIX")
    client = KafkaAdminClient(bootstrap_servers=bootstrap)
    topic = f"{prefix}-topic"
    client.create_topics([NewTopic(topic, 2, 1, topic_configs={"retention.ms": "86400000"})])

    configs = describe(client, topic)
    name, value, read_only, source, sensitive, synonyms = configs["retention.ms"]
    check_eq((value, read_only, source, sensitive), ("86400000", False, TOPIC_CONFIG, False),
             "retention.ms")
    # As Kafka: log.retention.ms has no default of its own, so no synonym.
    check_eq([s[0] for s in synonyms], ["retention.ms"], "synonyms")
    check_eq(configs["compression.type"][1:4], ("producer", False, DEFAULT_CONFIG),
             "compression.type")

    (response,) = [client.alter_configs([ConfigResource(
        ConfigResourceType.TOPIC, topic, configs={"compression.type": "lz4"})])]
    check_eq(response.resources[0][0], 0, f"alter_configs ({response.resources[0][1]})")
    configs = describe(client, topic)
    check_eq(configs["compression.type"][1], "lz4", "compression.type after alter")
    check_eq(configs["retention.ms"][3], DEFAULT_CONFIG, "alter_configs replaced the set")

    response = client.alter_configs([ConfigResource(
        ConfigResourceType.TOPIC, topic, configs={"compression.type": "brotli"})])
    check_eq(response.resources[0][0], 40, "a bad value is INVALID_CONFIG")
    check("String must be one of" in (response.resources[0][1] or ""),
          f"message {response.resources[0][1]!r}")

    expect_invalid_config(f"{prefix}-unknown", {"made.up": "1"},
                          "Unknown topic config name: made.up", client)
    expect_invalid_config(f"{prefix}-badvalue", {"max.message.bytes": "big"},
                          "Not a number of type INT", client)
    # A dynamic broker default (the cluster-wide resource, an empty name)
    # becomes the default of topics that set none of their own.
    response = client.alter_configs([ConfigResource(
        ConfigResourceType.BROKER, "", configs={"log.retention.ms": "86400000"})])
    check_eq(response.resources[0][0], 0, f"set a dynamic default ({response.resources[0][1]})")
    retention = describe(client, topic)["retention.ms"]
    check_eq(retention[1:4], ("86400000", False, DYNAMIC_DEFAULT_BROKER_CONFIG),
             "retention.ms from the dynamic broker default")
    response = client.alter_configs([ConfigResource(
        ConfigResourceType.BROKER, "", configs={"num.partitions": "3"})])
    check_eq(response.resources[0][0], 42, "a static broker config is INVALID_REQUEST")
    response = client.alter_configs([ConfigResource(ConfigResourceType.BROKER, "", configs={})])
    check_eq(response.resources[0][0], 0, "clearing the dynamic defaults")
    check_eq(describe(client, topic)["retention.ms"][1], "-1", "retention.ms back to -1")
    log("kafka-python configs ok")


if __name__ == "__main__":
    main()
