//! Metadata: brokers (this agent) and topics with their partitions.

use std::sync::Arc;

use floe_metadata::Topic;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op, TOPIC_DENIED, get_or_create_topic};
use super::{authorized_operations, error_codes};
use crate::authz::ResourceType;
use crate::cluster::routing::{AgentAddress, client_zone, eligible, partition_key, pick};
use crate::context::AgentContext;

/// Answers a Metadata request, auto-creating requested topics when allowed.
/// Brokers are the live agents; each partition's leader is picked among the
/// agents in the client's zone (named in its client id) by rendezvous
/// hashing, so producers spread over the agents and stay in their zone.
///
/// With ACLs, as Kafka: topics the requester may not DESCRIBE are left out
/// of an all-topics answer and answered TOPIC_AUTHORIZATION_FAILED when
/// named; a missing topic is auto-created only for a requester with CREATE
/// on the cluster or the topic (else TOPIC_AUTHORIZATION_FAILED); the
/// authorized operations are the requester's.
pub async fn handle(
    ctx: &AgentContext,
    req: MetadataRequest,
    version: i16,
    client_id: Option<&str>,
    listener: &str,
    access: &Access,
) -> MetadataResponse {
    let agents = ctx.registry.live();
    let brokers = agents
        .iter()
        .map(|a| {
            let (host, port) = a.endpoint(listener);
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(a.node_id))
                .with_host(StrBytes::from_string(host))
                .with_port(port)
                .with_rack(a.zone.clone().map(StrBytes::from_string))
        })
        .collect();
    let routing = Routing {
        agents: eligible(&agents, client_id.and_then(client_zone)),
    };
    // v0 has no null topic list: an empty list means all topics.
    let wanted = match req.topics {
        Some(list) if !(version == 0 && list.is_empty()) => Some(list),
        _ => None,
    };
    // Authorized operations exist from v8 on (the cluster's until v10);
    // Kafka answers the cluster's only to a requester that may DESCRIBE it
    // (0 otherwise).
    let topic_operations = version >= 8 && req.include_topic_authorized_operations;
    let cluster_operations =
        if (8..=10).contains(&version) && req.include_cluster_authorized_operations {
            if access.cluster(Op::Describe) {
                access.cluster_operations()
            } else {
                0
            }
        } else {
            authorized_operations::NOT_ASKED
        };
    // Before v4 the field does not exist and brokers auto-create.
    let client_allows = version < 4 || req.allow_auto_topic_creation;
    let topics = match wanted {
        None => match ctx.topics.list().await {
            Ok(all) => all
                .iter()
                .filter(|t| access.shows(Op::Describe, ResourceType::Topic, &t.name))
                .map(|t| describe(&routing, t))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "listing topics failed");
                Vec::new()
            }
        },
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for t in list {
                out.push(lookup(ctx, &routing, t.name, t.topic_id, client_allows, access).await);
            }
            out
        }
    };
    let topics = topics
        .into_iter()
        .map(|t: MetadataResponseTopic| match &t.name {
            Some(name) if t.error_code == 0 && topic_operations => {
                let operations = access.topic_operations(name);
                t.with_topic_authorized_operations(operations)
            }
            _ => t,
        })
        .collect();
    MetadataResponse::default()
        .with_cluster_authorized_operations(cluster_operations)
        .with_brokers(brokers)
        .with_cluster_id(Some(StrBytes::from_string(ctx.cluster_id.clone())))
        .with_controller_id(BrokerId(ctx.registry.me().node_id))
        .with_topics(topics)
}

/// The agents partitions are spread over for this client.
struct Routing<'a> {
    agents: Vec<&'a AgentAddress>,
}

impl Routing<'_> {
    fn leader(&self, topic: &Topic, partition: i32) -> BrokerId {
        BrokerId(pick(&self.agents, &partition_key(topic.id, partition)).map_or(-1, |a| a.node_id))
    }
}

/// One topic asked for by name or id. A requester that may not DESCRIBE
/// it gets TOPIC_AUTHORIZATION_FAILED (by id, without the name); one that
/// may describe but not create a missing topic it asked to auto-create
/// gets the same.
async fn lookup(
    ctx: &AgentContext,
    routing: &Routing<'_>,
    name: Option<TopicName>,
    topic_id: uuid::Uuid,
    client_allows: bool,
    access: &Access,
) -> MetadataResponseTopic {
    let denied = |name: Option<TopicName>, topic_id| {
        MetadataResponseTopic::default()
            .with_name(name)
            .with_topic_id(topic_id)
            .with_error_code(TOPIC_DENIED)
    };
    if let Some(n) = &name
        && !access.topic(Op::Describe, n)
    {
        return denied(name, uuid::Uuid::nil());
    }
    let (found, create_refused) = match &name {
        Some(n) => get_or_create_topic(ctx, access, n, client_allows).await,
        None => (ctx.topics.get_by_id(topic_id).await, false),
    };
    match found {
        Ok(Some(t)) if name.is_none() && !access.topic(Op::Describe, &t.name) => {
            denied(None, topic_id)
        }
        Ok(Some(t)) => describe(routing, &t),
        Ok(None) if create_refused => denied(name, uuid::Uuid::nil()),
        Ok(None) => {
            let code = match &name {
                // As Kafka: a name no topic can have is invalid, not unknown.
                Some(n) if floe_metadata::validate_topic_name(n.as_str()).is_err() => {
                    ResponseError::InvalidTopicException
                }
                Some(_) => ResponseError::UnknownTopicOrPartition,
                None => ResponseError::UnknownTopicId,
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

fn describe(routing: &Routing<'_>, t: &Arc<Topic>) -> MetadataResponseTopic {
    let partitions = (0..t.partitions)
        .map(|p| {
            let leader = routing.leader(t, p);
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(leader)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![leader])
                .with_isr_nodes(vec![leader])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(t.name.clone()))))
        .with_topic_id(t.id)
        .with_partitions(partitions)
}
