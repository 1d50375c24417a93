//! Parsing and validating config values as Kafka's `ConfigDef` does, with
//! its error messages (`Invalid value X for configuration Y: ...`), so tools
//! that print them print what they print against Kafka.

use std::collections::BTreeMap;

use super::ConfigType;
use super::topic::{TopicKey, topic_key};

/// Which values of a config are valid, beyond parsing as its type.
#[derive(Debug, Clone, Copy)]
pub enum Validator {
    /// Anything of the type.
    Any,
    /// A number of at least this.
    AtLeast(i64),
    /// A number in this closed range.
    Between(i64, i64),
    /// A floating-point number in this closed range.
    DoubleBetween(f64, f64),
    /// One of these strings (case-sensitive, as Kafka's `ValidString`).
    OneOf(&'static [&'static str]),
    /// A non-empty list of these strings (Kafka's `ValidList`).
    ListOf(&'static [&'static str]),
    /// gzip's levels: 1 to 9, or -1 for the codec's default.
    GzipLevel,
    /// Throttled replicas: `*`, or `partition:broker` pairs.
    Throttled,
}

/// A config Floe will not take, with Kafka's message as its text. Every
/// variant is answered INVALID_CONFIG.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Kafka has no topic config of this name.
    #[error("Unknown topic config name: {0}")]
    Unknown(String),
    /// A broker config that cannot be set at run time.
    #[error("Cannot update these configs dynamically: Set({0})")]
    NotDynamic(String),
    /// A config given without a value where one is needed.
    #[error("Null value not supported for topic configs: {0}")]
    Null(String),
    /// A value that does not parse or is out of range.
    #[error("Invalid value {value} for configuration {name}: {reason}")]
    Invalid {
        /// The config.
        name: String,
        /// The value as given (or as parsed, for range errors, as Kafka).
        value: String,
        /// Why.
        reason: String,
    },
}

/// Checks a topic's whole set of overrides: every name known and every
/// value valid. Values are kept as given, trimmed.
pub fn validate_topic_config(
    config: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    config
        .iter()
        .map(|(name, value)| validate_topic_value(name, value).map(|v| (name.clone(), v)))
        .collect()
}

/// Checks one topic override and returns the value to store (trimmed).
/// `cleanup.policy` may be `delete`, `compact` or both: the log cleaner
/// (`jobs/log_cleaner.rs`) honours `compact`, retention honours `delete`.
pub fn validate_topic_value(name: &str, value: &str) -> Result<String, ConfigError> {
    let key = topic_key(name).ok_or_else(|| ConfigError::Unknown(name.to_string()))?;
    let value = value.trim();
    check(key, value)?;
    Ok(value.to_string())
}

fn invalid(name: &str, value: impl ToString, reason: String) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        reason,
    }
}

/// The items of a list value, as Kafka splits them (on commas, trimmed).
pub(super) fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// Checks `value` against `key`'s type and validator.
pub(super) fn check(key: &TopicKey, value: &str) -> Result<(), ConfigError> {
    let not_a = || {
        invalid(
            key.name,
            value,
            format!("Not a number of type {}", key.kind.kafka_name()),
        )
    };
    let number: Option<f64> = match key.kind {
        ConfigType::Boolean => {
            if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
                return Err(invalid(
                    key.name,
                    value,
                    "Expected value to be either true or false".to_string(),
                ));
            }
            None
        }
        ConfigType::Int => Some(value.parse::<i32>().map_err(|_| not_a())? as f64),
        ConfigType::Long => Some(value.parse::<i64>().map_err(|_| not_a())? as f64),
        ConfigType::Double => Some(
            value
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite())
                .ok_or_else(not_a)?,
        ),
        ConfigType::String | ConfigType::List | ConfigType::Password => None,
    };
    match (key.validator, number) {
        (Validator::Any, _) => Ok(()),
        (Validator::AtLeast(min), Some(n)) if n < min as f64 => Err(invalid(
            key.name,
            value,
            format!("Value must be at least {min}"),
        )),
        (Validator::Between(min, _), Some(n)) if n < min as f64 => Err(invalid(
            key.name,
            value,
            format!("Value must be at least {min}"),
        )),
        (Validator::Between(_, max), Some(n)) if n > max as f64 => Err(invalid(
            key.name,
            value,
            format!("Value must be no more than {max}"),
        )),
        (Validator::DoubleBetween(min, _), Some(n)) if n < min => Err(invalid(
            key.name,
            value,
            format!("Value must be at least {min:?}"),
        )),
        (Validator::DoubleBetween(_, max), Some(n)) if n > max => Err(invalid(
            key.name,
            value,
            format!("Value must be no more than {max:?}"),
        )),
        (Validator::GzipLevel, Some(n)) if n != -1.0 && !(1.0..=9.0).contains(&n) => Err(invalid(
            key.name,
            value,
            "Value must be between 1 and 9, or -1".to_string(),
        )),
        (Validator::OneOf(allowed), _) if !allowed.contains(&value) => Err(invalid(
            key.name,
            value,
            format!("String must be one of: {}", allowed.join(", ")),
        )),
        (Validator::ListOf(allowed), _) => {
            if list_items(value).next().is_none() {
                return Err(invalid(key.name, value, "Empty list".to_string()));
            }
            match list_items(value).find(|item| !allowed.contains(item)) {
                Some(bad) => Err(invalid(
                    key.name,
                    bad,
                    format!("String must be one of: {}", allowed.join(", ")),
                )),
                None => Ok(()),
            }
        }
        (Validator::Throttled, _) => {
            let pair = |item: &str| {
                item.split_once(':').is_some_and(|(p, b)| {
                    p.trim().parse::<i32>().is_ok() && b.trim().parse::<i32>().is_ok()
                })
            };
            let items: Vec<&str> = list_items(value).collect();
            let ok = items == ["*"] || items.iter().all(|item| pair(item));
            if ok {
                Ok(())
            } else {
                Err(invalid(
                    key.name,
                    value,
                    "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...".to_string(),
                ))
            }
        }
        _ => Ok(()),
    }
}
