//! ElectLeaders: nothing to elect on a leaderless log.
//!
//! Every agent serves every partition, and the leader Metadata names is
//! already the preferred one (a replica list of one), so each partition
//! asked for answers ELECTION_NOT_NEEDED, with Kafka's message, for both
//! preferred and unclean elections; a partition that does not exist answers
//! UNKNOWN_TOPIC_OR_PARTITION. Asked for every partition (a null list), a
//! Kafka controller leaves out the partitions that needed no election:
//! the answer is empty.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::context::AgentContext;

/// Answers ElectLeaders.
pub async fn handle(ctx: &AgentContext, req: ElectLeadersRequest) -> ElectLeadersResponse {
    let Some(asked) = req.topic_partitions else {
        return ElectLeadersResponse::default();
    };
    let mut results = Vec::with_capacity(asked.len());
    for t in asked {
        let topic = ctx.topics.get(t.topic.as_str()).await;
        let partition_result = t
            .partitions
            .iter()
            .map(|&p| {
                let error = match &topic {
                    Ok(Some(topic)) if (0..topic.partitions).contains(&p) => {
                        ResponseError::ElectionNotNeeded
                    }
                    Ok(_) => ResponseError::UnknownTopicOrPartition,
                    Err(e) => ResponseError::try_from_code(error_codes::for_agent(e))
                        .unwrap_or(ResponseError::UnknownServerError),
                };
                PartitionResult::default()
                    .with_partition_id(p)
                    .with_error_code(error.code())
                    .with_error_message(Some(StrBytes::from_string(error.to_string())))
            })
            .collect();
        results.push(
            ReplicaElectionResult::default()
                .with_topic(t.topic)
                .with_partition_result(partition_result),
        );
    }
    ElectLeadersResponse::default().with_replica_election_results(results)
}
