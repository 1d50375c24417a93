//! CreatePartitions: grows topics' partition counts.
//!
//! A partition has no replicas to place on a diskless log: any agent serves
//! any partition, and a partition's leader in Metadata is picked per client
//! by rendezvous hashing. Manual assignments are therefore checked as Kafka
//! checks them (one per added partition, naming live brokers, each broker
//! at most once) and then ignored.

use std::collections::HashSet;

use floe_metadata::{MetadataError, Topic};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use super::authorize::{Access, Op};
use super::error_codes;
use super::partition_reassignments::replicas_refusal;
use crate::context::AgentContext;
use crate::error::AgentError;
use crate::quotas::MutationQuota;

/// A refusal: Kafka's error code and message.
type Refusal = (ResponseError, Option<String>);

/// Answers CreatePartitions, one result per topic in the order asked. A
/// topic named twice is refused both times (INVALID_REQUEST), as Kafka does.
/// A topic needs ALTER (else TOPIC_AUTHORIZATION_FAILED). The partitions
/// added are charged against the client's `controller_mutation_rate` once
/// every other check passed.
pub async fn handle(
    ctx: &AgentContext,
    req: CreatePartitionsRequest,
    access: &Access,
    quota: &mut MutationQuota<'_>,
) -> CreatePartitionsResponse {
    let mut seen = HashSet::with_capacity(req.topics.len());
    let duplicated: HashSet<_> = req
        .topics
        .iter()
        .filter(|t| !seen.insert(t.name.as_str()))
        .map(|t| t.name.to_string())
        .collect();
    let mut results = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let outcome = if duplicated.contains(t.name.as_str()) {
            Err((
                ResponseError::InvalidRequest,
                Some("Duplicate topic in request.".to_string()),
            ))
        } else if !access.topic(Op::Alter, &t.name) {
            Err((ResponseError::TopicAuthorizationFailed, None))
        } else {
            grow(ctx, t, req.validate_only, quota).await
        };
        let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
        results.push(match outcome {
            Ok(()) => result,
            Err((code, message)) => result
                .with_error_code(code.code())
                .with_error_message(message.map(StrBytes::from_string)),
        });
    }
    CreatePartitionsResponse::default().with_results(results)
}

async fn grow(
    ctx: &AgentContext,
    t: &CreatePartitionsTopic,
    validate_only: bool,
    quota: &mut MutationQuota<'_>,
) -> Result<(), Refusal> {
    let topic = match ctx.topics.fresh(t.name.as_str()).await {
        Ok(Some(topic)) => topic,
        Ok(None) => return Err((ResponseError::UnknownTopicOrPartition, None)),
        Err(e) => return Err(agent_refusal(&e)),
    };
    not_an_increase(&topic, t.count)?;
    if let Some(assignments) = &t.assignments {
        check_assignments(ctx, &topic, t.count, assignments)?;
    }
    let added = i64::from(t.count) - i64::from(topic.partitions);
    // Refused for the mutation quota: the code, no message (Kafka 4.4).
    if quota.record(u64::try_from(added).unwrap_or(0)).is_err() {
        return Err((ResponseError::ThrottlingQuotaExceeded, None));
    }
    if validate_only {
        return Ok(());
    }
    match ctx.topics.create_partitions(&topic, t.count).await {
        Ok(grown) => {
            tracing::info!(topic = %grown.name, from = topic.partitions, to = grown.partitions, "created partitions");
            Ok(())
        }
        Err(AgentError::Metadata(MetadataError::PartitionsNotIncreased {
            current,
            requested,
            ..
        })) => not_an_increase(
            &Topic {
                partitions: current,
                ..(*topic).clone()
            },
            requested,
        ),
        Err(e) => Err(agent_refusal(&e)),
    }
}

/// Kafka's INVALID_PARTITIONS refusals, with its messages, unless `count`
/// grows the topic.
fn not_an_increase(topic: &Topic, count: i32) -> Result<(), Refusal> {
    let current = topic.partitions;
    let message = if count == current {
        format!("Topic already has {current} partition(s).")
    } else if count < current {
        format!(
            "The topic {} currently has {current} partition(s); {count} would not be an increase.",
            topic.name
        )
    } else {
        return Ok(());
    };
    Err((ResponseError::InvalidPartitions, Some(message)))
}

/// Kafka's INVALID_REPLICA_ASSIGNMENT checks of manual assignments: one
/// per new partition, each naming live brokers, none twice.
fn check_assignments(
    ctx: &AgentContext,
    topic: &Topic,
    count: i32,
    assignments: &[CreatePartitionsAssignment],
) -> Result<(), Refusal> {
    let added = i64::from(count) - i64::from(topic.partitions);
    let refuse = |m: String| Err((ResponseError::InvalidReplicaAssignment, Some(m)));
    if i64::try_from(assignments.len()).unwrap_or(i64::MAX) != added {
        return refuse(format!(
            "Attempted to add {added} additional partition(s), but only {} assignment(s) were specified.",
            assignments.len()
        ));
    }
    let live: HashSet<i32> = ctx.registry.live().iter().map(|a| a.node_id).collect();
    for a in assignments {
        if let Some(m) = replicas_refusal(&live, &a.broker_ids) {
            return refuse(m);
        }
    }
    Ok(())
}

fn agent_refusal(e: &AgentError) -> Refusal {
    let code = error_codes::for_agent(e);
    (
        ResponseError::try_from_code(code).unwrap_or(ResponseError::UnknownServerError),
        Some(e.to_string()),
    )
}
