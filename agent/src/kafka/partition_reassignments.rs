//! ListPartitionReassignments and AlterPartitionReassignments, answered as a
//! leaderless log: a partition's data lives in the object store and any
//! agent serves it, so there are no replicas to move and no reassignment is
//! ever in progress.
//!
//! List answers no reassignment. Alter checks each new replica list as
//! Kafka checks one (not empty, live brokers, none twice: otherwise
//! INVALID_REPLICA_ASSIGNMENT) and accepts it with nothing to do, since the
//! named agents already serve the partition; cancelling (a null list)
//! answers NO_REASSIGNMENT_IN_PROGRESS, as Kafka does when none runs.

use std::collections::HashSet;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, BrokerId,
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::context::AgentContext;

/// Answers ListPartitionReassignments: none is ever in progress.
pub fn list(_req: ListPartitionReassignmentsRequest) -> ListPartitionReassignmentsResponse {
    ListPartitionReassignmentsResponse::default()
}

/// Answers AlterPartitionReassignments, partition by partition.
pub async fn alter(
    ctx: &AgentContext,
    req: AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    let live: HashSet<i32> = ctx.registry.live().iter().map(|a| a.node_id).collect();
    let mut responses = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let topic = ctx.topics.get(t.name.as_str()).await;
        let partitions = t
            .partitions
            .iter()
            .map(|p| {
                let refusal = match &topic {
                    Ok(Some(topic)) if (0..topic.partitions).contains(&p.partition_index) => {
                        match &p.replicas {
                            None => Some((ResponseError::NoReassignmentInProgress, None)),
                            Some(replicas) => replicas_refusal(&live, replicas)
                                .map(|m| (ResponseError::InvalidReplicaAssignment, Some(m))),
                        }
                    }
                    Ok(_) => Some((ResponseError::UnknownTopicOrPartition, None)),
                    Err(e) => Some((
                        ResponseError::try_from_code(error_codes::for_agent(e))
                            .unwrap_or(ResponseError::UnknownServerError),
                        None,
                    )),
                };
                let response = ReassignablePartitionResponse::default()
                    .with_partition_index(p.partition_index);
                match refusal {
                    None => response,
                    Some((error, message)) => response
                        .with_error_code(error.code())
                        .with_error_message(Some(StrBytes::from_string(
                            message.unwrap_or_else(|| error.to_string()),
                        ))),
                }
            })
            .collect();
        responses.push(
            ReassignableTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions),
        );
    }
    AlterPartitionReassignmentsResponse::default()
        .with_allow_replication_factor_change(req.allow_replication_factor_change)
        .with_responses(responses)
}

/// Why a replica list would be refused by Kafka (INVALID_REPLICA_ASSIGNMENT):
/// empty, naming a broker that is not live, or one broker twice.
pub(super) fn replicas_refusal(live: &HashSet<i32>, replicas: &[BrokerId]) -> Option<String> {
    if replicas.is_empty() {
        return Some("The manual partition assignment includes an empty replica list.".into());
    }
    let mut named = HashSet::with_capacity(replicas.len());
    for id in replicas {
        if !live.contains(&id.0) {
            return Some(format!(
                "The manual partition assignment includes broker {}, but no such broker is registered.",
                id.0
            ));
        }
        if !named.insert(id.0) {
            return Some(format!(
                "The manual partition assignment includes broker {} more than once.",
                id.0
            ));
        }
    }
    None
}
