//! IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT applied to a
//! resource's current configs, in request order, then checked as a whole
//! (every name known, every value valid) before anything is written.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::alter_configs::{alter_broker, alter_topic, unsupported};
use crate::configs::{
    BrokerConfigs, ConfigError, ConfigType, is_dynamic, resource_type, topic_key, topic_value,
};
use crate::context::AgentContext;

/// Kafka's `AlterConfigOp.OpType` ids.
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// Answers IncrementalAlterConfigs, one result per resource in request
/// order.
pub async fn handle(
    ctx: &AgentContext,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let name = resource.resource_name.as_str();
        let (code, message) = if let Some(op) = resource
            .configs
            .iter()
            .find(|c| !(SET..=SUBTRACT).contains(&c.config_operation))
        {
            (
                ResponseError::InvalidRequest.code(),
                Some(format!(
                    "Unknown alter configs operation {}",
                    op.config_operation
                )),
            )
        } else {
            match resource.resource_type {
                resource_type::TOPIC => {
                    let broker = &ctx.broker_configs;
                    let ops = &resource.configs;
                    alter_topic(
                        ctx,
                        name,
                        |current| apply(current, ops, broker),
                        req.validate_only,
                    )
                    .await
                }
                resource_type::BROKER => {
                    let ops = &resource.configs;
                    alter_broker(
                        ctx,
                        name,
                        |current| apply_broker(current, ops),
                        req.validate_only,
                    )
                    .await
                }
                other => unsupported(other),
            }
        };
        responses.push(
            AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name)
                .with_error_code(code)
                .with_error_message(message.map(StrBytes::from_string)),
        );
    }
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

/// The overrides after `ops`. APPEND and SUBTRACT work on the value in
/// force (the override, else the default) and only on list configs.
fn apply(
    current: &BTreeMap<String, String>,
    ops: &[AlterableConfig],
    broker: &BrokerConfigs,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut config = current.clone();
    for op in ops {
        let name = op.name.as_str();
        let key = topic_key(name).ok_or_else(|| ConfigError::Unknown(name.to_string()))?;
        let value = op.value.as_ref().map(|v| v.as_str());
        match op.config_operation {
            DELETE => {
                config.remove(name);
            }
            SET => {
                let value = value.ok_or_else(|| ConfigError::Null(name.to_string()))?;
                config.insert(name.to_string(), value.to_string());
            }
            verb => {
                if key.kind != ConfigType::List {
                    let verb = if verb == APPEND {
                        "APPEND to"
                    } else {
                        "SUBTRACT from"
                    };
                    return Err(ConfigError::Invalid {
                        name: name.to_string(),
                        value: value.unwrap_or_default().to_string(),
                        reason: format!("Can't {verb} key {name} because its type is not LIST."),
                    });
                }
                let now = topic_value(name, &config, broker).unwrap_or_default();
                let mut items: Vec<String> = split(&now);
                let given = split(value.unwrap_or_default());
                if verb == APPEND {
                    for item in given {
                        if !items.contains(&item) {
                            items.push(item);
                        }
                    }
                } else {
                    items.retain(|item| !given.contains(item));
                }
                config.insert(name.to_string(), items.join(","));
            }
        }
    }
    Ok(config)
}

/// The dynamic broker configs after `ops`: none of them is a list, so
/// APPEND and SUBTRACT are refused; a name that is not dynamic is refused
/// by the caller's check of the result, or here when deleted.
fn apply_broker(
    current: &BTreeMap<String, String>,
    ops: &[AlterableConfig],
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut config = current.clone();
    for op in ops {
        let name = op.name.as_str();
        if !is_dynamic(name) {
            return Err(ConfigError::NotDynamic(name.to_string()));
        }
        match (op.config_operation, &op.value) {
            (DELETE, _) => {
                config.remove(name);
            }
            (SET, Some(value)) => {
                config.insert(name.to_string(), value.to_string());
            }
            (SET, None) => return Err(ConfigError::Null(name.to_string())),
            (verb, value) => {
                let verb = if verb == APPEND {
                    "APPEND to"
                } else {
                    "SUBTRACT from"
                };
                return Err(ConfigError::Invalid {
                    name: name.to_string(),
                    value: value.as_deref().unwrap_or_default().to_string(),
                    reason: format!("Can't {verb} key {name} because its type is not LIST."),
                });
            }
        }
    }
    Ok(config)
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}
