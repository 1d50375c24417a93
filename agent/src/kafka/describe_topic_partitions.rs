//! DescribeTopicPartitions (KIP-966): topics and their partitions, paged by
//! a partition limit and a cursor, as newer admin clients describe topics.
//!
//! Leaders are picked as Metadata picks them (rendezvous hashing over the
//! live agents of the client's zone), with the one leader epoch 0 and the
//! leader as the only replica, in sync; there are no eligible leader
//! replicas beyond it (empty lists, as a Kafka broker reports them). Topics
//! come in name order; at most `min(response_partition_limit,
//! MAX_PARTITIONS_PER_ANSWER)` partitions are described, and when some are
//! left the answer's `next_cursor` names the first of them.

use std::collections::BTreeSet;
use std::sync::Arc;

use floe_metadata::Topic;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::error_codes;
use crate::authz::ResourceType;
use crate::cluster::routing::{AgentAddress, client_zone, eligible, partition_key, pick};
use crate::context::AgentContext;

/// Most partitions one answer describes, whatever the client asks (Kafka's
/// `max.request.partition.size.limit` default).
pub const MAX_PARTITIONS_PER_ANSWER: i32 = 2000;

/// Answers DescribeTopicPartitions. As Kafka, topics the requester may not
/// DESCRIBE are left out of an all-topics answer and answered
/// TOPIC_AUTHORIZATION_FAILED when named; each topic carries the
/// requester's authorized operations on it.
pub async fn handle(
    ctx: &AgentContext,
    req: DescribeTopicPartitionsRequest,
    client_id: Option<&str>,
    access: &Access,
) -> DescribeTopicPartitionsResponse {
    let listing = req.topics.is_empty();
    let cursor = req
        .cursor
        .as_ref()
        .map(|c| (c.topic_name.to_string(), c.partition_index.max(0)));
    // Every topic, or the ones named, in name order, from the cursor's.
    let names: Vec<String> = if req.topics.is_empty() {
        match ctx.topics.list().await {
            Ok(all) => all
                .iter()
                .filter(|t| access.shows(Op::Describe, ResourceType::Topic, &t.name))
                .map(|t| t.name.clone())
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "listing topics failed");
                return DescribeTopicPartitionsResponse::default();
            }
        }
    } else {
        let named: BTreeSet<String> = req.topics.iter().map(|t| t.name.to_string()).collect();
        if let Some((topic, _)) = &cursor
            && !named.contains(topic)
        {
            // Kafka refuses a cursor outside the topics asked for; the
            // answer has no top-level error code, so every topic carries it.
            return DescribeTopicPartitionsResponse::default().with_topics(
                named
                    .into_iter()
                    .map(|n| failed(n, ResponseError::InvalidRequest.code()))
                    .collect(),
            );
        }
        named.into_iter().collect()
    };
    let agents = ctx.registry.live();
    let routing = eligible(&agents, client_id.and_then(client_zone));
    let mut remaining = req
        .response_partition_limit
        .clamp(1, MAX_PARTITIONS_PER_ANSWER);
    let mut topics = Vec::new();
    let mut next_cursor = None;
    let start_topic = cursor.as_ref().map(|(t, _)| t.as_str());
    for name in names
        .iter()
        .filter(|n| start_topic.is_none_or(|s| n.as_str() >= s))
    {
        if remaining == 0 {
            next_cursor = Some((name.clone(), 0));
            break;
        }
        if !listing && !access.topic(Op::Describe, name) {
            topics.push(failed(name.clone(), TOPIC_DENIED));
            continue;
        }
        let topic = match ctx.topics.get(name).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                topics.push(failed(
                    name.clone(),
                    ResponseError::UnknownTopicOrPartition.code(),
                ));
                continue;
            }
            Err(e) => {
                topics.push(failed(name.clone(), error_codes::for_agent(&e)));
                continue;
            }
        };
        let first = match &cursor {
            Some((t, p)) if t == name => *p,
            _ => 0,
        };
        let last = topic.partitions.min(first.saturating_add(remaining));
        if last < topic.partitions {
            next_cursor = Some((name.clone(), last));
        }
        remaining -= (last - first).max(0);
        let operations = access.topic_operations(name);
        topics.push(
            describe(&routing, &topic, first..last).with_topic_authorized_operations(operations),
        );
        if next_cursor.is_some() {
            break;
        }
    }
    DescribeTopicPartitionsResponse::default()
        .with_topics(topics)
        .with_next_cursor(next_cursor.map(|(topic, partition)| {
            Cursor::default()
                .with_topic_name(TopicName(StrBytes::from_string(topic)))
                .with_partition_index(partition)
        }))
}

fn failed(name: String, code: i16) -> DescribeTopicPartitionsResponseTopic {
    DescribeTopicPartitionsResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(name))))
        .with_error_code(code)
}

fn describe(
    routing: &[&AgentAddress],
    topic: &Arc<Topic>,
    partitions: std::ops::Range<i32>,
) -> DescribeTopicPartitionsResponseTopic {
    let partitions = partitions
        .map(|p| {
            let leader =
                BrokerId(pick(routing, &partition_key(topic.id, p)).map_or(-1, |a| a.node_id));
            DescribeTopicPartitionsResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(leader)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![leader])
                .with_isr_nodes(vec![leader])
                .with_eligible_leader_replicas(Some(Vec::new()))
                .with_last_known_elr(Some(Vec::new()))
        })
        .collect();
    DescribeTopicPartitionsResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(topic.name.clone()))))
        .with_topic_id(topic.id)
        .with_partitions(partitions)
}
