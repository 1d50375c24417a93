//! DeleteRecords: advances partitions' log start offsets.
//!
//! The log start is the one retention keeps (`jobs/retention.rs`): reads
//! below it get OFFSET_OUT_OF_RANGE, ListOffsets EARLIEST answers it, and
//! the segments no index row points at any more are deleted by the segment
//! collector. A start inside a batch keeps that batch: a fetch from the
//! start gets it whole and the client skips the records below its offset,
//! as with Kafka.

use floe_metadata::DeletedRecords;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::error_codes;
use crate::context::AgentContext;

/// The low watermark Kafka answers with an error.
const INVALID_LOW_WATERMARK: i64 = -1;

/// Answers DeleteRecords, partition by partition: the new low watermark,
/// or why the partition's records were not deleted. A topic needs DELETE
/// (else TOPIC_AUTHORIZATION_FAILED on each partition).
pub async fn handle(
    ctx: &AgentContext,
    req: DeleteRecordsRequest,
    access: &Access,
) -> DeleteRecordsResponse {
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        if !access.topic(Op::Delete, &t.name) {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index)
                        .with_low_watermark(INVALID_LOW_WATERMARK)
                        .with_error_code(TOPIC_DENIED)
                })
                .collect();
            topics.push(
                DeleteRecordsTopicResult::default()
                    .with_name(t.name)
                    .with_partitions(partitions),
            );
            continue;
        }
        let topic = ctx.topics.get(t.name.as_str()).await;
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in t.partitions {
            let result = DeleteRecordsPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_low_watermark(INVALID_LOW_WATERMARK);
            let outcome = match &topic {
                Ok(Some(topic)) if (0..topic.partitions).contains(&p.partition_index) => ctx
                    .store
                    .delete_records(topic.id, p.partition_index, p.offset)
                    .await
                    .map_err(|e| error_codes::for_metadata(&e)),
                Ok(_) => Ok(DeletedRecords::UnknownPartition),
                Err(e) => Err(error_codes::for_agent(e)),
            };
            partitions.push(match outcome {
                Ok(DeletedRecords::LogStart(start)) => {
                    tracing::info!(topic = %t.name.as_str(), partition = p.partition_index, log_start = start, "deleted records");
                    result.with_low_watermark(start)
                }
                Ok(DeletedRecords::OutOfRange { .. }) => {
                    result.with_error_code(ResponseError::OffsetOutOfRange.code())
                }
                Ok(DeletedRecords::UnknownPartition) => {
                    // The cached topic may be stale (deleted through
                    // another agent): the next request asks the store.
                    ctx.topics.forget(t.name.as_str());
                    result.with_error_code(ResponseError::UnknownTopicOrPartition.code())
                }
                Err(code) => result.with_error_code(code),
            });
        }
        topics.push(
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions),
        );
    }
    DeleteRecordsResponse::default().with_topics(topics)
}
