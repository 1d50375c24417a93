//! The entries DescribeConfigs reports, as Kafka's `ConfigHelper` builds
//! them: a value, the source of the first synonym that has one, and the
//! synonyms in precedence order (topic override, then the broker config,
//! set or at its default).

use std::collections::BTreeMap;

use super::broker::{BrokerConfigs, BrokerEntry, is_dynamic};
use super::topic::{TOPIC_CONFIGS, TopicKey, topic_key};
use super::{ConfigSource, ConfigType};

/// One place a value can come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Synonym {
    /// The config's name there (a broker config for a topic's default).
    pub name: String,
    /// Its value there.
    pub value: Option<String>,
    /// Which layer it is.
    pub source: ConfigSource,
}

/// One config as DescribeConfigs reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribedConfig {
    /// Its name.
    pub name: String,
    /// The value in force.
    pub value: Option<String>,
    /// Where the value comes from.
    pub source: ConfigSource,
    /// Whether it can be altered.
    pub read_only: bool,
    /// Whether the value is a secret (never reported).
    pub sensitive: bool,
    /// Its type.
    pub kind: ConfigType,
    /// What it means.
    pub doc: &'static str,
    /// Every layer that has a value, first the one in force.
    pub synonyms: Vec<Synonym>,
}

/// Broker configs that are a topic config's first synonym but have no
/// default in Kafka (their value falls back to a coarser config, e.g.
/// `log.retention.ms` to `log.retention.hours`): Kafka lists no
/// DEFAULT_CONFIG synonym for them, and neither does Floe.
const NO_KAFKA_DEFAULT: [&str; 4] = [
    "log.retention.ms",
    "log.roll.ms",
    "log.roll.jitter.ms",
    "log.flush.interval.ms",
];

/// The broker layer of a topic config: the agent's setting when it has one,
/// else Kafka's default under the broker's name.
fn broker_synonyms(key: &TopicKey, broker: &BrokerConfigs) -> Vec<Synonym> {
    let Some(name) = key.synonym else {
        return Vec::new();
    };
    match broker.get(name) {
        Some(entry) => entry_synonyms(entry, broker.dynamic_value(name)),
        None => vec![Synonym {
            name: name.to_string(),
            value: Some(key.default.to_string()),
            source: ConfigSource::Default,
        }],
    }
}

/// A broker config's layers: its dynamic cluster-wide value when set, its
/// static setting when set, then its built-in default.
fn entry_synonyms(entry: &BrokerEntry, dynamic: Option<String>) -> Vec<Synonym> {
    let mut out = Vec::with_capacity(3);
    if let Some(value) = dynamic {
        out.push(Synonym {
            name: entry.name.to_string(),
            value: Some(value),
            source: ConfigSource::DynamicDefaultBroker,
        });
    }
    if entry.is_set() {
        out.push(Synonym {
            name: entry.name.to_string(),
            value: entry.value.clone(),
            source: ConfigSource::StaticBroker,
        });
    }
    if let Some(default) = &entry.default {
        out.push(Synonym {
            name: entry.name.to_string(),
            value: Some(default.clone()),
            source: ConfigSource::Default,
        });
    }
    out
}

fn topic_entry(
    key: &TopicKey,
    overrides: &BTreeMap<String, String>,
    broker: &BrokerConfigs,
) -> DescribedConfig {
    let mut synonyms = Vec::with_capacity(3);
    if let Some(value) = overrides.get(key.name) {
        synonyms.push(Synonym {
            name: key.name.to_string(),
            value: Some(value.clone()),
            source: ConfigSource::Topic,
        });
    }
    synonyms.extend(broker_synonyms(key, broker));
    let (value, source) = match synonyms.first() {
        Some(first) => (first.value.clone(), first.source),
        None => (Some(key.default.to_string()), ConfigSource::Default),
    };
    // Kafka lists a topic config's synonyms from its first broker synonym
    // on, and lists a broker config's default only when Kafka has one.
    synonyms.retain(|s| {
        !(s.source == ConfigSource::Default && NO_KAFKA_DEFAULT.contains(&s.name.as_str()))
    });
    DescribedConfig {
        name: key.name.to_string(),
        value,
        source,
        read_only: false,
        sensitive: false,
        kind: key.kind,
        doc: key.doc,
        synonyms,
    }
}

/// Every topic config of a topic with `overrides`, sorted by name.
pub fn describe_topic(
    overrides: &BTreeMap<String, String>,
    broker: &BrokerConfigs,
) -> Vec<DescribedConfig> {
    TOPIC_CONFIGS
        .iter()
        .map(|key| topic_entry(key, overrides, broker))
        .collect()
}

/// The value in force of topic config `name` for a topic with `overrides`
/// (`None` if Kafka has no such topic config): the same precedence as
/// [`describe_topic`] without building the synonyms, as the produce path
/// asks on every batch.
pub fn topic_value(
    name: &str,
    overrides: &BTreeMap<String, String>,
    broker: &BrokerConfigs,
) -> Option<String> {
    let key = topic_key(name)?;
    if let Some(value) = overrides.get(key.name) {
        return Some(value.clone());
    }
    let Some(synonym) = key.synonym else {
        return Some(key.default.to_string());
    };
    match broker.get(synonym) {
        Some(entry) => broker
            .dynamic_value(synonym)
            .or_else(|| entry.value.clone()),
        None => Some(key.default.to_string()),
    }
}

/// Every broker config of this agent (node `node_id`), sorted by name.
/// Only the [`super::broker::DYNAMIC_CONFIGS`] are writable.
pub fn describe_broker(broker: &BrokerConfigs, node_id: i32) -> Vec<DescribedConfig> {
    broker
        .with_node_id(node_id)
        .iter()
        .map(|entry| {
            let synonyms = entry_synonyms(entry, broker.dynamic_value(entry.name));
            let (value, source) = synonyms
                .first()
                .map_or((entry.value.clone(), ConfigSource::Default), |s| {
                    (s.value.clone(), s.source)
                });
            DescribedConfig {
                name: entry.name.to_string(),
                value,
                source,
                read_only: !is_dynamic(entry.name),
                sensitive: false,
                kind: entry.kind,
                doc: entry.doc,
                synonyms,
            }
        })
        .collect()
}

/// The cluster-wide default resource (an empty broker name): the dynamic
/// configs set, as Kafka lists its dynamic broker defaults.
pub fn describe_broker_defaults(broker: &BrokerConfigs) -> Vec<DescribedConfig> {
    broker
        .dynamic()
        .into_iter()
        .filter_map(|(name, value)| {
            let entry = broker.get(&name)?;
            let synonym = Synonym {
                name: name.clone(),
                value: Some(value.clone()),
                source: ConfigSource::DynamicDefaultBroker,
            };
            Some(DescribedConfig {
                name,
                value: Some(value),
                source: ConfigSource::DynamicDefaultBroker,
                read_only: false,
                sensitive: false,
                kind: entry.kind,
                doc: entry.doc,
                synonyms: vec![synonym],
            })
        })
        .collect()
}
