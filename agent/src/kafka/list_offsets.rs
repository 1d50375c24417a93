//! ListOffsets: earliest, latest, max timestamp, and offset by timestamp.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::error_codes;
use crate::context::AgentContext;
use crate::error::Result;
use crate::fetch::TimestampHit;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// Answers ListOffsets.
pub async fn handle(
    ctx: &AgentContext,
    req: ListOffsetsRequest,
    version: i16,
) -> ListOffsetsResponse {
    // The leader epoch field exists from v4 on; the codec refuses it before.
    let leader_epoch = if version >= 4 { 0 } else { -1 };
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let topic = ctx.topics.get(t.name.as_str()).await;
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in t.partitions {
            let resp = ListOffsetsPartitionResponse::default()
                .with_partition_index(p.partition_index)
                .with_leader_epoch(leader_epoch);
            let found = match &topic {
                Ok(Some(topic)) if (0..topic.partitions).contains(&p.partition_index) => {
                    lookup(ctx, topic.id, p.partition_index, p.timestamp)
                        .await
                        .map_err(|e| error_codes::for_agent(&e))
                }
                Ok(_) => Err(ResponseError::UnknownTopicOrPartition.code()),
                Err(e) => Err(error_codes::for_agent(e)),
            };
            partitions.push(match found {
                Ok(Some(hit)) => resp.with_offset(hit.offset).with_timestamp(hit.timestamp),
                // Kafka's answer when no record is that recent.
                Ok(None) => resp.with_offset(-1).with_timestamp(-1),
                Err(code) => resp
                    .with_error_code(code)
                    .with_offset(-1)
                    .with_timestamp(-1),
            });
        }
        topics.push(
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions),
        );
    }
    ListOffsetsResponse::default().with_topics(topics)
}

async fn lookup(
    ctx: &AgentContext,
    topic: uuid::Uuid,
    partition: i32,
    timestamp: i64,
) -> Result<Option<TimestampHit>> {
    match timestamp {
        LATEST | EARLIEST => {
            let (start, hw) = ctx.reader.bounds(topic, partition).await?;
            let offset = if timestamp == LATEST { hw } else { start };
            Ok(Some(TimestampHit {
                offset,
                timestamp: -1,
            }))
        }
        MAX_TIMESTAMP => ctx.reader.max_timestamp(topic, partition).await,
        ts if ts >= 0 => {
            // Checks the partition exists even when nothing matches.
            ctx.reader.bounds(topic, partition).await?;
            ctx.reader.offset_for_timestamp(topic, partition, ts).await
        }
        _ => Err(crate::error::AgentError::UnknownTopicOrPartition),
    }
}
