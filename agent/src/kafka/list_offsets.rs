//! ListOffsets: earliest, latest, max timestamp, and offset by timestamp.
//! At read_committed (v2+), latest is the last stable offset.

use floe_metadata::PartitionOffsets;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::{bounds, error_codes};
use crate::context::AgentContext;
use crate::error::Result;
use crate::fetch::TimestampHit;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
/// `isolation_level` of a read_committed consumer.
const READ_COMMITTED: i8 = 1;

/// Answers ListOffsets. The bounds of all the partitions asked come from
/// the store in one round trip; earliest and latest need nothing more.
/// A topic the requester may not DESCRIBE is TOPIC_AUTHORIZATION_FAILED on
/// each partition, and its offsets are not read.
pub async fn handle(
    ctx: &AgentContext,
    req: ListOffsetsRequest,
    version: i16,
    access: &Access,
) -> ListOffsetsResponse {
    // The leader epoch field exists from v4 on; the codec refuses it before.
    let leader_epoch = if version >= 4 { 0 } else { -1 };
    let committed = version >= 2 && req.isolation_level == READ_COMMITTED;
    let denied: Vec<bool> = req
        .topics
        .iter()
        .map(|t| !access.topic(Op::Describe, &t.name))
        .collect();
    let asked = req.topics.iter().zip(&denied).map(|(t, denied)| {
        let partitions = if *denied {
            Vec::new()
        } else {
            t.partitions.iter().map(|p| p.partition_index).collect()
        };
        (t.name.as_str(), partitions)
    });
    let (resolved, bounds) = bounds::resolve_and_read(ctx, asked).await;
    let mut topics = Vec::with_capacity(req.topics.len());
    for ((t, topic), denied) in req.topics.into_iter().zip(resolved).zip(denied) {
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in t.partitions {
            let resp = ListOffsetsPartitionResponse::default()
                .with_partition_index(p.partition_index)
                .with_leader_epoch(leader_epoch);
            let found = match (&topic, &bounds) {
                _ if denied => Err(TOPIC_DENIED),
                (Ok(Some(topic)), Ok(bounds)) => match bounds.get(&(topic.id, p.partition_index)) {
                    Some(b) => lookup(ctx, topic.id, p.partition_index, *b, p.timestamp, committed)
                        .await
                        .map_err(|e| error_codes::for_agent(&e)),
                    None => {
                        // The cached id may be stale (the topic was deleted,
                        // perhaps recreated, through another agent).
                        ctx.topics.forget(t.name.as_str());
                        Err(ResponseError::UnknownTopicOrPartition.code())
                    }
                },
                (Ok(Some(_)), Err(code)) => Err(*code),
                (Ok(None), _) => Err(ResponseError::UnknownTopicOrPartition.code()),
                (Err(e), _) => Err(error_codes::for_agent(e)),
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
    bounds: PartitionOffsets,
    timestamp: i64,
    committed: bool,
) -> Result<Option<TimestampHit>> {
    match timestamp {
        LATEST => Ok(Some(TimestampHit {
            offset: if committed {
                bounds.last_stable_offset
            } else {
                bounds.high_watermark
            },
            timestamp: -1,
        })),
        EARLIEST => Ok(Some(TimestampHit {
            offset: bounds.log_start_offset,
            timestamp: -1,
        })),
        MAX_TIMESTAMP => ctx.reader.max_timestamp(topic, partition).await,
        ts if ts >= 0 => ctx.reader.offset_for_timestamp(topic, partition, ts).await,
        _ => Err(crate::error::AgentError::UnknownTopicOrPartition),
    }
}
