//! IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT applied to a
//! resource's current configs, in request order, then checked as a whole
//! (every name known, every value valid) before anything is written.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::alter_configs::{alter_broker, alter_topic, denied, unsupported};
use super::authorize::{Access, Op};
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
///
/// A resource needs ALTER_CONFIGS (else the authorization error of its ACL
/// resource), checked first as Kafka does.
pub async fn handle(
    ctx: &AgentContext,
    req: IncrementalAlterConfigsRequest,
    access: &Access,
) -> IncrementalAlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let name = resource.resource_name.as_str();
        let refusal = access.config_refusal(Op::AlterConfigs, resource.resource_type, name);
        let mut names: Vec<&str> = resource.configs.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        let duplicated = names.windows(2).any(|pair| pair[0] == pair[1]);
        let (code, message) = if refusal.is_some() {
            denied(refusal)
        } else if duplicated {
            // Kafka refuses a resource that names a config twice.
            (
                ResponseError::InvalidRequest.code(),
                Some("Error due to duplicate config keys".to_string()),
            )
        } else if let Some(op) = resource
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn op(name: &str, operation: i8, value: Option<&str>) -> AlterableConfig {
        AlterableConfig::default()
            .with_name(StrBytes::from_string(name.to_string()))
            .with_config_operation(operation)
            .with_value(value.map(|v| StrBytes::from_string(v.to_string())))
    }

    #[test]
    fn operations_apply_in_order_to_the_value_in_force() {
        let broker = BrokerConfigs::new(&Config::default());
        let name = "leader.replication.throttled.replicas";
        let current = BTreeMap::from([("retention.ms".to_string(), "5".to_string())]);
        let ops = [
            op(name, APPEND, Some("0:1")),
            op(name, APPEND, Some("1:1, 0:1")),
            op(name, SUBTRACT, Some("0:1")),
            op("retention.ms", DELETE, None),
            op("segment.ms", SET, Some("9")),
        ];
        let after = apply(&current, &ops, &broker).unwrap();
        assert_eq!(
            after,
            BTreeMap::from([
                (name.to_string(), "1:1".to_string()),
                ("segment.ms".to_string(), "9".to_string()),
            ])
        );
    }

    #[test]
    fn refusals_name_the_config() {
        let broker = BrokerConfigs::new(&Config::default());
        let current = BTreeMap::new();
        let err = |ops: &[AlterableConfig]| apply(&current, ops, &broker).unwrap_err().to_string();
        assert_eq!(
            err(&[op("made.up", DELETE, None)]),
            "Unknown topic config name: made.up"
        );
        assert!(err(&[op("retention.ms", APPEND, Some("1"))]).contains("type is not LIST"));
        assert!(err(&[op("retention.ms", SET, None)]).contains("Null value"));
        assert_eq!(
            apply_broker(&current, &[op("num.partitions", SET, Some("3"))]),
            Err(ConfigError::NotDynamic("num.partitions".into()))
        );
        assert_eq!(
            apply_broker(&current, &[op("message.max.bytes", SET, Some("10"))]).unwrap(),
            BTreeMap::from([("message.max.bytes".to_string(), "10".to_string())])
        );
    }
}
