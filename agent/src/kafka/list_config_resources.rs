//! ListConfigResources (KIP-1142): the resources that have configs. v0
//! (once ListClientMetricsResources) lists client-metrics subscriptions
//! only; v1 takes resource types, an empty list meaning every type served,
//! and a type it does not know fails the whole request with
//! UNSUPPORTED_VERSION, as Kafka answers.
//!
//! Floe lists every topic and every live agent (by node id). It has no
//! client-metrics subscriptions, no group configs and no broker loggers, so
//! those types are served and list nothing.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_config_resources_response::ConfigResource;
use kafka_protocol::messages::{ListConfigResourcesRequest, ListConfigResourcesResponse};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::configs::resource_type;
use crate::context::AgentContext;

/// The types v1 serves, in the order they are listed.
const SERVED: [i8; 5] = [
    resource_type::TOPIC,
    resource_type::BROKER,
    resource_type::BROKER_LOGGER,
    resource_type::CLIENT_METRICS,
    resource_type::GROUP,
];

/// Answers ListConfigResources.
pub async fn handle(
    ctx: &AgentContext,
    req: ListConfigResourcesRequest,
    version: i16,
) -> ListConfigResourcesResponse {
    let response = ListConfigResourcesResponse::default();
    if version == 0 {
        // Client-metrics subscriptions only: Floe has none.
        return response;
    }
    let wanted: Vec<i8> = if req.resource_types.is_empty() {
        SERVED.to_vec()
    } else {
        req.resource_types
    };
    if wanted.iter().any(|t| !SERVED.contains(t)) {
        return response.with_error_code(ResponseError::UnsupportedVersion.code());
    }
    let mut resources = Vec::new();
    for kind in SERVED.into_iter().filter(|t| wanted.contains(t)) {
        let names: Vec<String> = match kind {
            resource_type::TOPIC => match ctx.topics.list().await {
                Ok(topics) => topics.iter().map(|t| t.name.clone()).collect(),
                Err(e) => return response.with_error_code(error_codes::for_agent(&e)),
            },
            resource_type::BROKER => {
                let mut ids: Vec<i32> = ctx.registry.live().iter().map(|a| a.node_id).collect();
                ids.sort_unstable();
                ids.dedup();
                ids.iter().map(i32::to_string).collect()
            }
            _ => Vec::new(),
        };
        resources.extend(names.into_iter().map(|name| {
            ConfigResource::default()
                .with_resource_name(StrBytes::from_string(name))
                .with_resource_type(kind)
        }));
    }
    response.with_config_resources(resources)
}
