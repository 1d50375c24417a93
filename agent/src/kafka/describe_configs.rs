//! DescribeConfigs: the configs of topics, of this broker, of groups and of
//! client-metrics subscriptions, as Kafka's `ConfigHelper` answers them
//! (value, source, read-only, synonyms when asked, type and documentation
//! from v3).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op, denied_message};
use super::error_codes;
use crate::configs::{
    DescribedConfig, describe_broker, describe_broker_defaults, describe_client_metrics,
    describe_group, describe_topic, resource_type,
};
use crate::context::AgentContext;

/// The first version that carries each config's type and documentation.
const TYPES_AND_DOCS_VERSION: i16 = 3;

/// What the request asked to see of each config.
#[derive(Debug, Clone, Copy)]
struct Shown {
    synonyms: bool,
    documentation: bool,
    types: bool,
}

/// Answers DescribeConfigs, one result per resource in request order. A
/// resource needs DESCRIBE_CONFIGS (else the authorization error of its
/// ACL resource, with Kafka's message).
pub async fn handle(
    ctx: &AgentContext,
    req: DescribeConfigsRequest,
    version: i16,
    access: &Access,
) -> DescribeConfigsResponse {
    let shown = Shown {
        synonyms: req.include_synonyms,
        documentation: req.include_documentation && version >= TYPES_AND_DOCS_VERSION,
        types: version >= TYPES_AND_DOCS_VERSION,
    };
    let mut results = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let (kind, name) = (resource.resource_type, resource.resource_name.as_str());
        if let Some(code) = access.config_refusal(Op::DescribeConfigs, kind, name) {
            results.push(
                DescribeConfigsResult::default()
                    .with_resource_type(kind)
                    .with_resource_name(resource.resource_name.clone())
                    .with_error_code(code)
                    .with_error_message(Some(StrBytes::from_static_str(denied_message(code)))),
            );
            continue;
        }
        results.push(describe_one(ctx, resource, shown).await);
    }
    DescribeConfigsResponse::default().with_results(results)
}

async fn describe_one(
    ctx: &AgentContext,
    resource: DescribeConfigsResource,
    shown: Shown,
) -> DescribeConfigsResult {
    // Kafka sends a null message with success.
    let result = DescribeConfigsResult::default()
        .with_error_message(None)
        .with_resource_type(resource.resource_type)
        .with_resource_name(resource.resource_name.clone());
    let fail = |code: ResponseError, message: Option<String>| {
        result
            .clone()
            .with_error_code(code.code())
            .with_error_message(message.map(StrBytes::from_string))
    };
    let name = resource.resource_name.as_str();
    let configs = match resource.resource_type {
        resource_type::TOPIC => match ctx.topics.get(name).await {
            Ok(Some(topic)) => describe_topic(&topic.config, &ctx.broker_configs),
            // Kafka sends no message with this code.
            Ok(None) => return fail(ResponseError::UnknownTopicOrPartition, None),
            Err(e) => {
                return result
                    .with_error_code(error_codes::for_agent(&e))
                    .with_error_message(Some(StrBytes::from_string(e.to_string())));
            }
        },
        // The cluster-wide default resource holds the dynamic defaults.
        resource_type::BROKER if name.is_empty() => describe_broker_defaults(&ctx.broker_configs),
        resource_type::BROKER => {
            let node_id = ctx.registry.me().node_id;
            if name.trim().parse::<i32>().ok() != Some(node_id) {
                return fail(
                    ResponseError::InvalidRequest,
                    Some(format!(
                        "Unexpected broker id, expected {node_id} or empty string, but received {name}"
                    )),
                );
            }
            describe_broker(&ctx.broker_configs, node_id)
        }
        // Kafka describes any group and any subscription name.
        resource_type::GROUP => describe_group(),
        resource_type::CLIENT_METRICS => describe_client_metrics(),
        other => {
            return fail(
                ResponseError::InvalidRequest,
                Some(format!("Unsupported resource type: {}", type_name(other))),
            );
        }
    };
    // A null or empty list asks for every config, as in Kafka.
    let wanted = resource
        .configuration_keys
        .as_ref()
        .filter(|keys| !keys.is_empty());
    let configs = configs
        .into_iter()
        .filter(|c| wanted.is_none_or(|keys| keys.iter().any(|k| k.as_str() == c.name)))
        .map(|c| entry(c, shown))
        .collect();
    result.with_configs(configs)
}

/// Kafka's name of a resource type, for error messages.
fn type_name(id: i8) -> String {
    match id {
        resource_type::BROKER_LOGGER => "BROKER_LOGGER".to_string(),
        other => format!("UNKNOWN ({other})"),
    }
}

fn entry(c: DescribedConfig, shown: Shown) -> DescribeConfigsResourceResult {
    let synonyms = if shown.synonyms {
        c.synonyms
            .into_iter()
            .map(|s| {
                DescribeConfigsSynonym::default()
                    .with_name(StrBytes::from_string(s.name))
                    .with_value(s.value.map(StrBytes::from_string))
                    .with_source(s.source.id())
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut out = DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_string(c.name))
        .with_value(c.value.map(StrBytes::from_string))
        .with_read_only(c.read_only)
        .with_config_source(c.source.id())
        .with_is_sensitive(c.sensitive)
        .with_synonyms(synonyms);
    if shown.types {
        out = out.with_config_type(c.kind.id());
    }
    // Kafka sends a null documentation unless it was asked for.
    out.with_documentation(
        shown
            .documentation
            .then(|| StrBytes::from_static_str(c.doc)),
    )
}
