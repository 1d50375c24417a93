//! OffsetForLeaderEpoch: what a consumer asks after a reconnect or a
//! leader change to check that its position is still on the log (KIP-320).
//!
//! Floe's partitions have no leaders that come and go: there is one leader
//! epoch, 0, forever (the epoch Metadata, ListOffsets and Fetch report), and
//! its end offset is the high watermark. So epoch 0 ends at the high
//! watermark; a later epoch is unknown (UNDEFINED, as Kafka answers an epoch
//! newer than any it has); a client that believes the current epoch is
//! newer than 0 gets UNKNOWN_LEADER_EPOCH and an older one FENCED_LEADER_EPOCH,
//! as with Kafka.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::bounds;
use crate::context::AgentContext;

/// The one leader epoch of every partition.
const LEADER_EPOCH: i32 = 0;

/// Kafka's answer for an epoch it does not know.
const UNDEFINED_EPOCH: i32 = -1;
const UNDEFINED_OFFSET: i64 = -1;

/// Answers OffsetForLeaderEpoch. The high watermarks of every partition
/// asked come from the store in one round trip. A topic the requester may
/// not DESCRIBE is TOPIC_AUTHORIZATION_FAILED on each partition.
pub async fn handle(
    ctx: &AgentContext,
    req: OffsetForLeaderEpochRequest,
    access: &Access,
) -> OffsetForLeaderEpochResponse {
    let denied: Vec<bool> = req
        .topics
        .iter()
        .map(|t| !access.topic(Op::Describe, &t.topic))
        .collect();
    let asked = req.topics.iter().zip(&denied).map(|(t, denied)| {
        let partitions = if *denied {
            Vec::new()
        } else {
            t.partitions.iter().map(|p| p.partition).collect()
        };
        (t.topic.as_str(), partitions)
    });
    let (resolved, bounds) = bounds::resolve_and_read(ctx, asked).await;
    let mut topics = Vec::with_capacity(req.topics.len());
    for ((t, topic), denied) in req.topics.into_iter().zip(resolved).zip(denied) {
        let partitions = t
            .partitions
            .iter()
            .map(|p| {
                let unknown = EpochEndOffset::default()
                    .with_partition(p.partition)
                    .with_leader_epoch(UNDEFINED_EPOCH)
                    .with_end_offset(UNDEFINED_OFFSET);
                let high_watermark = match (&topic, &bounds) {
                    _ if denied => return unknown.with_error_code(TOPIC_DENIED),
                    (Ok(Some(topic)), Ok(b)) => match b.get(&(topic.id, p.partition)) {
                        Some(b) => b.high_watermark,
                        None => {
                            return unknown
                                .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                        }
                    },
                    (Ok(Some(_)), Err(code)) => return unknown.with_error_code(*code),
                    (Ok(None), _) => {
                        return unknown
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    }
                    (Err(e), _) => {
                        return unknown.with_error_code(super::error_codes::for_agent(e));
                    }
                };
                answer(
                    p.current_leader_epoch,
                    p.leader_epoch,
                    high_watermark,
                    unknown,
                )
            })
            .collect();
        topics.push(
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic)
                .with_partitions(partitions),
        );
    }
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}

/// The end offset of `epoch` on a partition whose one epoch is
/// [`LEADER_EPOCH`], after Kafka's check of the client's current epoch
/// (`-1`: not checked).
fn answer(
    current: i32,
    epoch: i32,
    high_watermark: i64,
    unknown: EpochEndOffset,
) -> EpochEndOffset {
    if current > LEADER_EPOCH {
        return unknown.with_error_code(ResponseError::UnknownLeaderEpoch.code());
    }
    if epoch == LEADER_EPOCH {
        unknown
            .with_leader_epoch(LEADER_EPOCH)
            .with_end_offset(high_watermark)
    } else {
        unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(current: i32, epoch: i32) -> (i16, i32, i64) {
        let a = answer(current, epoch, 42, EpochEndOffset::default());
        (a.error_code, a.leader_epoch, a.end_offset)
    }

    #[test]
    fn epoch_zero_ends_at_the_high_watermark() {
        assert_eq!(ask(-1, 0), (0, 0, 42));
        assert_eq!(ask(0, 0), (0, 0, 42));
        assert_eq!(ask(0, 3), (0, -1, -1), "an epoch never seen");
        assert_eq!(ask(-1, -1), (0, -1, -1));
        assert_eq!(
            ask(2, 0).0,
            ResponseError::UnknownLeaderEpoch.code(),
            "the client saw a newer epoch"
        );
    }
}
