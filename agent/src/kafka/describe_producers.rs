//! DescribeProducers: the idempotent producers with state on each
//! partition, from the metadata store (the state the commit checks
//! sequences against).
//!
//! The last timestamp is when the producer's newest batch was committed.
//! A producer with a transaction open on the partition reports its first
//! offset there as `current_txn_start_offset` (-1 outside a transaction,
//! as Kafka reports it); the coordinator epoch is always -1 (Floe's
//! coordinators are fenced by the store, not by an epoch).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::error_codes;
use crate::context::AgentContext;

/// Answers DescribeProducers, partition by partition. A topic needs READ
/// (else TOPIC_AUTHORIZATION_FAILED on each partition), as Kafka checks.
pub async fn handle(
    ctx: &AgentContext,
    req: DescribeProducersRequest,
    access: &Access,
) -> DescribeProducersResponse {
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let readable = access.topic(Op::Read, &t.name);
        let topic = if readable {
            ctx.topics.get(t.name.as_str()).await
        } else {
            Ok(None)
        };
        let mut partitions = Vec::with_capacity(t.partition_indexes.len());
        for p in t.partition_indexes {
            let response = PartitionResponse::default().with_partition_index(p);
            partitions.push(match &topic {
                _ if !readable => response.with_error_code(TOPIC_DENIED),
                Ok(Some(topic)) if (0..topic.partitions).contains(&p) => {
                    let found = match ctx.store.partition_producers(topic.id, p).await {
                        Ok(producers) => ctx
                            .store
                            .open_transactions(topic.id, p)
                            .await
                            .map(|open| (producers, open)),
                        Err(e) => Err(e),
                    };
                    match found {
                        Ok((producers, open)) => response.with_active_producers(
                            producers
                                .into_iter()
                                .map(|s| {
                                    let txn_start = open
                                        .iter()
                                        .find(|o| o.producer_id == s.producer_id)
                                        .map_or(-1, |o| o.first_offset);
                                    ProducerState::default()
                                        .with_producer_id(ProducerId(s.producer_id))
                                        .with_producer_epoch(i32::from(s.producer_epoch))
                                        .with_last_sequence(s.last_sequence)
                                        .with_last_timestamp(s.last_written_ms)
                                        .with_coordinator_epoch(-1)
                                        .with_current_txn_start_offset(txn_start)
                                })
                                .collect(),
                        ),
                        Err(e) => response.with_error_code(error_codes::for_metadata(&e)),
                    }
                }
                Ok(_) => response.with_error_code(ResponseError::UnknownTopicOrPartition.code()),
                Err(e) => response.with_error_code(error_codes::for_agent(e)),
            });
        }
        topics.push(
            TopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions),
        );
    }
    DescribeProducersResponse::default().with_topics(topics)
}
