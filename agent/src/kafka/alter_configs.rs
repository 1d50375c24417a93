//! AlterConfigs (the legacy API): each resource's configs are replaced by
//! the set given, as Kafka does: names left out return to their defaults
//! (for the default broker resource, the dynamic broker configs).
//! The checks and the write are shared with IncrementalAlterConfigs.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op, denied_message};
use super::error_codes;
use crate::configs::{ConfigError, resource_type, validate_dynamic, validate_topic_config};
use crate::context::AgentContext;

/// A resource's outcome: its code and message.
pub(super) type Outcome = (i16, Option<String>);

/// Success.
pub(super) const DONE: Outcome = (0, None);

/// Answers AlterConfigs, one result per resource in request order. A
/// resource needs ALTER_CONFIGS (else the authorization error of its ACL
/// resource).
pub async fn handle(
    ctx: &AgentContext,
    req: AlterConfigsRequest,
    access: &Access,
) -> AlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let name = resource.resource_name.as_str();
        let refusal = access.config_refusal(Op::AlterConfigs, resource.resource_type, name);
        let (code, message) = match resource.resource_type {
            _ if refusal.is_some() => denied(refusal),
            resource_type::TOPIC => {
                let given: Result<BTreeMap<String, String>, ConfigError> = resource
                    .configs
                    .iter()
                    .map(|c| match &c.value {
                        Some(v) => Ok((c.name.to_string(), v.to_string())),
                        None => Err(ConfigError::Null(c.name.to_string())),
                    })
                    .collect();
                alter_topic(ctx, name, |_| given, req.validate_only).await
            }
            resource_type::BROKER => {
                let given: Vec<(String, Option<String>)> = resource
                    .configs
                    .iter()
                    .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string())))
                    .collect();
                let replace = |_: &BTreeMap<String, String>| {
                    given
                        .into_iter()
                        .map(|(name, value)| match value {
                            Some(v) => Ok((name, v)),
                            None => Err(ConfigError::Null(name)),
                        })
                        .collect()
                };
                alter_broker(ctx, name, replace, req.validate_only).await
            }
            other => unsupported(other),
        };
        responses.push(
            AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name)
                .with_error_code(code)
                .with_error_message(message.map(StrBytes::from_string)),
        );
    }
    AlterConfigsResponse::default().with_responses(responses)
}

/// The answer to a resource the requester may not alter.
pub(super) fn denied(code: Option<i16>) -> Outcome {
    let code = code.unwrap_or(super::authorize::CLUSTER_DENIED);
    (code, Some(denied_message(code).to_string()))
}

/// The answer to a resource type Floe has no configs for.
pub(super) fn unsupported(resource_type: i8) -> Outcome {
    (
        ResponseError::InvalidRequest.code(),
        Some(format!("Unsupported resource type: {resource_type}")),
    )
}

/// Replaces the overrides of topic `name` with what `change` makes of the
/// current ones, after checking every name and value; with
/// `validate_only`, only checks.
pub(super) async fn alter_topic(
    ctx: &AgentContext,
    name: &str,
    change: impl FnOnce(&BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ConfigError>,
    validate_only: bool,
) -> Outcome {
    let topic = match ctx.topics.get(name).await {
        Ok(Some(topic)) => topic,
        Ok(None) => {
            return (
                ResponseError::UnknownTopicOrPartition.code(),
                Some(format!("The topic '{name}' does not exist.")),
            );
        }
        Err(e) => return (error_codes::for_agent(&e), Some(e.to_string())),
    };
    // Only what the request sets is checked: an override stored before
    // configs were checked must not block every later change.
    let checked = change(&topic.config).and_then(|changed| {
        let (kept, set): (BTreeMap<_, _>, BTreeMap<_, _>) = changed
            .into_iter()
            .partition(|(k, v)| topic.config.get(k) == Some(v));
        let mut config = validate_topic_config(&set)?;
        config.extend(kept);
        Ok(config)
    });
    let config = match checked {
        Ok(config) => config,
        Err(e) => return (ResponseError::InvalidConfig.code(), Some(e.to_string())),
    };
    if validate_only {
        return DONE;
    }
    match ctx.topics.set_config(&topic, &config).await {
        Ok(()) => {
            tracing::info!(topic = %topic.name, ?config, "altered topic configs");
            DONE
        }
        Err(e) => (error_codes::for_agent(&e), Some(e.to_string())),
    }
}

/// Replaces the dynamic broker configs with what `change` makes of the
/// current ones. They are cluster-wide in Floe: only the default resource
/// (an empty name) takes changes. A name that is not dynamic is refused
/// INVALID_REQUEST as Kafka refuses it; a bad value INVALID_CONFIG.
pub(super) async fn alter_broker(
    ctx: &AgentContext,
    name: &str,
    change: impl FnOnce(&BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ConfigError>,
    validate_only: bool,
) -> Outcome {
    let node_id = ctx.registry.me().node_id;
    let current = ctx.broker_configs.dynamic();
    if !name.is_empty() {
        if name.trim().parse::<i32>().ok() != Some(node_id) {
            return (
                ResponseError::InvalidRequest.code(),
                Some(format!(
                    "Unexpected broker id, expected {node_id} or empty string, but received {name}"
                )),
            );
        }
        // Floe keeps no per-agent dynamic configs: an empty change passes.
        return match change(&current) {
            Ok(changed) if changed == current => DONE,
            Ok(_) => (
                ResponseError::InvalidRequest.code(),
                Some(
                    "Floe's dynamic broker configs are cluster-wide: alter the default broker \
                     resource (an empty name, kafka-configs --entity-default)"
                        .to_string(),
                ),
            ),
            Err(e) => refusal(&e),
        };
    }
    let checked: Result<BTreeMap<String, String>, ConfigError> = change(&current).and_then(|c| {
        c.into_iter()
            .map(|(k, v)| validate_dynamic(&k, &v).map(|v| (k, v)))
            .collect()
    });
    let config = match checked {
        Ok(config) => config,
        Err(e) => return refusal(&e),
    };
    if validate_only {
        return DONE;
    }
    if let Err(e) = ctx.store.set_broker_configs(&config).await {
        return (error_codes::for_metadata(&e), Some(e.to_string()));
    }
    tracing::info!(?config, "altered dynamic broker configs");
    ctx.broker_configs.set_dynamic(config);
    DONE
}

/// The code and message of a refused broker config.
fn refusal(e: &ConfigError) -> Outcome {
    let code = match e {
        ConfigError::NotDynamic(_) => ResponseError::InvalidRequest,
        _ => ResponseError::InvalidConfig,
    };
    (code.code(), Some(e.to_string()))
}
