//! Metadata: brokers (this agent) and topics with their partitions.

use std::sync::Arc;

use floe_metadata::Topic;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::context::AgentContext;

/// Answers a Metadata request, auto-creating requested topics when allowed.
pub async fn handle(ctx: &AgentContext, req: MetadataRequest, version: i16) -> MetadataResponse {
    let id = &ctx.identity;
    let broker = MetadataResponseBroker::default()
        .with_node_id(BrokerId(id.node_id))
        .with_host(StrBytes::from_string(id.host.clone()))
        .with_port(id.port)
        .with_rack(id.rack.clone().map(StrBytes::from_string));
    // v0 has no null topic list: an empty list means all topics.
    let wanted = match req.topics {
        Some(list) if !(version == 0 && list.is_empty()) => Some(list),
        _ => None,
    };
    // Before v4 the field does not exist and brokers auto-create.
    let client_allows = version < 4 || req.allow_auto_topic_creation;
    let topics = match wanted {
        None => match ctx.topics.list().await {
            Ok(all) => all.iter().map(|t| describe(ctx, t)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "listing topics failed");
                Vec::new()
            }
        },
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for t in list {
                out.push(lookup(ctx, t.name, t.topic_id, client_allows).await);
            }
            out
        }
    };
    MetadataResponse::default()
        .with_brokers(vec![broker])
        .with_cluster_id(Some(StrBytes::from_string(id.cluster_id.clone())))
        .with_controller_id(BrokerId(id.node_id))
        .with_topics(topics)
}

async fn lookup(
    ctx: &AgentContext,
    name: Option<TopicName>,
    topic_id: uuid::Uuid,
    client_allows: bool,
) -> MetadataResponseTopic {
    let found = match &name {
        Some(n) => ctx.topics.get_or_create(n.as_str(), client_allows).await,
        None => ctx.topics.get_by_id(topic_id).await,
    };
    match found {
        Ok(Some(t)) => describe(ctx, &t),
        Ok(None) => {
            let code = if name.is_some() {
                ResponseError::UnknownTopicOrPartition
            } else {
                ResponseError::UnknownTopicId
            };
            MetadataResponseTopic::default()
                .with_name(name)
                .with_topic_id(topic_id)
                .with_error_code(code.code())
        }
        Err(e) => {
            let code = match &e {
                crate::error::AgentError::Metadata(floe_metadata::MetadataError::Invalid(_)) => {
                    ResponseError::InvalidTopicException.code()
                }
                other => error_codes::for_agent(other),
            };
            MetadataResponseTopic::default()
                .with_name(name)
                .with_topic_id(topic_id)
                .with_error_code(code)
        }
    }
}

fn describe(ctx: &AgentContext, t: &Arc<Topic>) -> MetadataResponseTopic {
    let me = BrokerId(ctx.identity.node_id);
    let partitions = (0..t.partitions)
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(me)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![me])
                .with_isr_nodes(vec![me])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(t.name.clone()))))
        .with_topic_id(t.id)
        .with_partitions(partitions)
}
