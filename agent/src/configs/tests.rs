use std::collections::BTreeMap;

use super::*;
use crate::config::Config;

fn broker() -> BrokerConfigs {
    BrokerConfigs::new(&Config::default())
}

#[test]
fn table_is_sorted_unique_and_defaults_are_valid() {
    for pair in TOPIC_CONFIGS.windows(2) {
        assert!(
            pair[0].name < pair[1].name,
            "{} before {}",
            pair[0].name,
            pair[1].name
        );
    }
    for key in TOPIC_CONFIGS {
        // Kafka's own default passes Kafka's validator.
        assert_eq!(
            validate_topic_value(key.name, key.default).as_deref(),
            Ok(key.default),
            "{}",
            key.name
        );
    }
    assert_eq!(TOPIC_CONFIGS.len(), 36);
}

#[test]
fn unknown_names_and_bad_values_have_kafkas_messages() {
    let err = |n: &str, v: &str| validate_topic_value(n, v).unwrap_err().to_string();
    assert_eq!(err("made.up", "1"), "Unknown topic config name: made.up");
    assert_eq!(
        err("retention.ms", "abc"),
        "Invalid value abc for configuration retention.ms: Not a number of type LONG"
    );
    assert_eq!(
        err("retention.ms", "-5"),
        "Invalid value -5 for configuration retention.ms: Value must be at least -1"
    );
    assert_eq!(
        err("max.message.bytes", "99999999999"),
        "Invalid value 99999999999 for configuration max.message.bytes: Not a number of type INT"
    );
    assert_eq!(
        err("message.timestamp.type", "createtime"),
        "Invalid value createtime for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"
    );
    assert_eq!(
        err("compression.type", "brotli"),
        "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"
    );
    assert_eq!(
        err("compression.lz4.level", "18"),
        "Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17"
    );
    assert!(err("compression.gzip.level", "0").contains("between 1 and 9, or -1"));
    assert!(err("preallocate", "yes").contains("either true or false"));
    assert!(err("min.cleanable.dirty.ratio", "1.5").contains("no more than"));
    assert!(err("cleanup.policy", "delete,shred").contains("shred"));
    assert!(err("leader.replication.throttled.replicas", "x").contains("[partitionId]"));
}

#[test]
fn good_values_are_trimmed_and_every_cleanup_policy_is_taken() {
    assert_eq!(
        validate_topic_value("retention.ms", " 1000 ").as_deref(),
        Ok("1000")
    );
    assert_eq!(
        validate_topic_value("preallocate", "TRUE").as_deref(),
        Ok("TRUE")
    );
    assert!(validate_topic_value("cleanup.policy", "delete").is_ok());
    assert!(validate_topic_value("compression.gzip.level", "-1").is_ok());
    assert!(validate_topic_value("leader.replication.throttled.replicas", "0:1, 1:2").is_ok());
    assert!(validate_topic_value("leader.replication.throttled.replicas", "*").is_ok());
    for policy in ["compact", "compact,delete", "delete, compact"] {
        assert_eq!(
            validate_topic_value("cleanup.policy", policy).as_deref(),
            Ok(policy)
        );
    }
    let set = BTreeMap::from([
        ("retention.ms".to_string(), "5".to_string()),
        ("made.up".to_string(), "5".to_string()),
    ]);
    assert_eq!(
        validate_topic_config(&set),
        Err(ConfigError::Unknown("made.up".into()))
    );
}

#[test]
fn topic_values_come_from_override_then_broker_then_kafka() {
    let overrides = BTreeMap::from([("retention.ms".to_string(), "1000".to_string())]);
    let described = describe_topic(&overrides, &broker());
    assert_eq!(described.len(), TOPIC_CONFIGS.len());
    let find = |n: &str| described.iter().find(|c| c.name == n).unwrap().clone();

    let retention = find("retention.ms");
    assert_eq!(retention.value.as_deref(), Some("1000"));
    assert_eq!(retention.source, ConfigSource::Topic);
    assert_eq!(
        retention.synonyms,
        vec![
            // `log.retention.ms` has no default in Kafka (it falls back
            // to `log.retention.hours`): Kafka lists no default synonym.
            Synonym {
                name: "retention.ms".into(),
                value: Some("1000".into()),
                source: ConfigSource::Topic
            },
        ]
    );
    let unset = describe_topic(&BTreeMap::new(), &broker());
    let retention = unset.iter().find(|c| c.name == "retention.ms").unwrap();
    assert_eq!(
        (retention.value.as_deref(), retention.source),
        (Some("-1"), ConfigSource::Default),
        "Floe keeps everything unless told"
    );
    assert!(retention.synonyms.is_empty());

    // A broker setting Floe has, left at its default.
    let max = find("max.message.bytes");
    assert_eq!(max.value.as_deref(), Some("1048588"));
    assert_eq!(max.source, ConfigSource::Default);
    assert_eq!(max.synonyms[0].name, "message.max.bytes");
    // A broker config Floe does not have: Kafka's default under its name.
    let segment = find("segment.bytes");
    assert_eq!(segment.value.as_deref(), Some("1073741824"));
    assert_eq!(segment.synonyms[0].name, "log.segment.bytes");
    // No broker synonym at all.
    let throttled = find("leader.replication.throttled.replicas");
    assert_eq!(throttled.value.as_deref(), Some(""));
    assert_eq!(throttled.source, ConfigSource::Default);
    assert!(throttled.synonyms.is_empty());
    assert!(described.iter().all(|c| !c.read_only && !c.sensitive));
}

#[test]
fn a_set_broker_setting_is_static_broker_config() {
    let config = Config {
        message_max_bytes: 2048,
        ..Config::default()
    };
    let broker = BrokerConfigs::new(&config);
    let overrides = BTreeMap::new();
    let described = describe_topic(&overrides, &broker);
    let max = described
        .iter()
        .find(|c| c.name == "max.message.bytes")
        .unwrap();
    assert_eq!(max.value.as_deref(), Some("2048"));
    assert_eq!(max.source, ConfigSource::StaticBroker);
    assert_eq!(max.synonyms.len(), 2);
    assert_eq!(max.synonyms[1].source, ConfigSource::Default);
    assert_eq!(max.synonyms[1].value.as_deref(), Some("1048588"));
    assert_eq!(
        topic_value("max.message.bytes", &overrides, &broker).as_deref(),
        Some("2048")
    );

    let entries = describe_broker(&broker, 1);
    let by_name = |n: &str| entries.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        by_name("message.max.bytes").source,
        ConfigSource::StaticBroker
    );
    assert_eq!(by_name("num.partitions").source, ConfigSource::Default);
    assert_eq!(by_name("node.id").value.as_deref(), Some("1"));
    assert_eq!(by_name("node.id").source, ConfigSource::StaticBroker);
    assert!(entries.iter().all(|c| c.read_only != is_dynamic(&c.name)));
    for pair in entries.windows(2) {
        assert!(pair[0].name < pair[1].name);
    }
}

#[test]
fn a_dynamic_default_wins_over_the_static_setting() {
    let config = Config {
        message_max_bytes: 2048,
        ..Config::default()
    };
    let broker = BrokerConfigs::new(&config);
    broker.set_dynamic(BTreeMap::from([(
        "message.max.bytes".to_string(),
        "4096".to_string(),
    )]));
    let overrides = BTreeMap::new();
    let described = describe_topic(&overrides, &broker);
    let max = described
        .iter()
        .find(|c| c.name == "max.message.bytes")
        .unwrap();
    assert_eq!(max.value.as_deref(), Some("4096"));
    assert_eq!(max.source, ConfigSource::DynamicDefaultBroker);
    let sources: Vec<ConfigSource> = max.synonyms.iter().map(|s| s.source).collect();
    assert_eq!(
        sources,
        [
            ConfigSource::DynamicDefaultBroker,
            ConfigSource::StaticBroker,
            ConfigSource::Default
        ]
    );
    let defaults = describe_broker_defaults(&broker);
    assert_eq!(defaults.len(), 1);
    assert!(!defaults[0].read_only);
    let entries = describe_broker(&broker, 1);
    let entry = entries
        .iter()
        .find(|c| c.name == "message.max.bytes")
        .unwrap();
    assert!(!entry.read_only, "dynamic configs are writable");
    assert_eq!(entry.value.as_deref(), Some("4096"));
    assert!(
        entries
            .iter()
            .find(|c| c.name == "num.partitions")
            .unwrap()
            .read_only
    );

    assert_eq!(
        validate_dynamic("log.retention.ms", " 5 ").as_deref(),
        Ok("5")
    );
    assert_eq!(
        validate_dynamic("num.partitions", "3"),
        Err(ConfigError::NotDynamic("num.partitions".into()))
    );
    assert!(validate_dynamic("message.max.bytes", "-1").is_err());
    for key in DYNAMIC_CONFIGS {
        assert!(broker.get(key.name).is_some(), "{} is a setting", key.name);
    }
}

#[test]
fn topic_value_agrees_with_describe() {
    let config = Config {
        message_max_bytes: 2048,
        ..Config::default()
    };
    let broker = BrokerConfigs::new(&config);
    broker.set_dynamic(BTreeMap::from([(
        "log.retention.ms".to_string(),
        "60000".to_string(),
    )]));
    let overrides = BTreeMap::from([("segment.ms".to_string(), "5".to_string())]);
    for described in describe_topic(&overrides, &broker) {
        assert_eq!(
            topic_value(&described.name, &overrides, &broker),
            described.value,
            "{}",
            described.name
        );
    }
    assert_eq!(topic_value("made.up", &overrides, &broker), None);
}

#[test]
fn archive_configs_come_from_the_topic_then_the_broker_defaults() {
    let config = Config {
        archive_after_ms: 3_600_000,
        ..Config::default()
    };
    let broker = BrokerConfigs::new(&config);
    broker.set_dynamic(BTreeMap::from([(
        "floe.archive.enabled".to_string(),
        "true".to_string(),
    )]));
    let overrides =
        BTreeMap::from([("floe.archive.drop.segments".to_string(), "true".to_string())]);
    let described = describe_topic(&overrides, &broker);
    let by_name = |n: &str| described.iter().find(|c| c.name == n).unwrap();
    let seen = |n: &str| (by_name(n).value.clone(), by_name(n).source);
    assert_eq!(
        seen("floe.archive.enabled"),
        (Some("true".into()), ConfigSource::DynamicDefaultBroker)
    );
    assert_eq!(
        seen("floe.archive.after.ms"),
        (Some("3600000".into()), ConfigSource::StaticBroker)
    );
    assert_eq!(
        seen("floe.archive.drop.segments"),
        (Some("true".into()), ConfigSource::Topic)
    );
    let after = by_name("floe.archive.after.ms");
    assert_eq!(
        after.synonyms.last().map(|s| s.value.as_deref()),
        Some(Some("604800000"))
    );
    assert!(validate_topic_value("floe.archive.after.ms", "-1").is_err());
    assert!(validate_topic_value("floe.archive.enabled", "maybe").is_err());
    assert_eq!(
        validate_dynamic("floe.archive.after.ms", "60000").as_deref(),
        Ok("60000")
    );
}
