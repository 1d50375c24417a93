//! AlterConfigs (the legacy API): each resource's configs are replaced by
//! the set given, as Kafka does: names left out return to their defaults.
//! The checks and the write are shared with IncrementalAlterConfigs.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::configs::{ConfigError, resource_type, validate_topic_config};
use crate::context::AgentContext;

/// A resource's outcome: its code and message.
pub(super) type Outcome = (i16, Option<String>);

/// Success.
pub(super) const DONE: Outcome = (0, None);

/// Answers AlterConfigs, one result per resource in request order.
pub async fn handle(ctx: &AgentContext, req: AlterConfigsRequest) -> AlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let name = resource.resource_name.as_str();
        let (code, message) = match resource.resource_type {
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
                let names: Vec<&str> = resource.configs.iter().map(|c| c.name.as_str()).collect();
                alter_broker(ctx, name, &names)
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
    let config = match change(&topic.config).and_then(|c| validate_topic_config(&c)) {
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

/// Broker configs are all static in Floe: any change is refused as Kafka
/// refuses a change of a config that is not dynamic. An empty change (and,
/// incrementally, deleting configs: none is set dynamically) succeeds.
pub(super) fn alter_broker(ctx: &AgentContext, name: &str, changed: &[&str]) -> Outcome {
    let node_id = ctx.registry.me().node_id;
    if !name.is_empty() && name.trim().parse::<i32>().ok() != Some(node_id) {
        return (
            ResponseError::InvalidRequest.code(),
            Some(format!(
                "Unexpected broker id, expected {node_id} or empty string, but received {name}"
            )),
        );
    }
    if changed.is_empty() {
        return DONE;
    }
    (
        ResponseError::InvalidRequest.code(),
        Some(format!(
            "Cannot update these configs dynamically: Set({})",
            changed.join(", ")
        )),
    )
}
