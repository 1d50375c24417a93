//! WriteTxnMarkers: the API a Kafka transaction coordinator sends partition
//! leaders to end a transaction, and what Kafka's Admin `abortTransaction`
//! (`kafka-transactions.sh abort`) sends to end a hanging one, a
//! transaction left open on a partition that no coordinator will finish.
//!
//! Every agent serves every partition, so the markers go the way the
//! coordinator's own do (`txn/markers.rs`): one control batch per partition,
//! appended together, in one segment and one commit, whose commit ends the
//! producer's transaction on each partition (its open row goes, an abort
//! records the aborted range, the last stable offset moves on). The
//! coordinator's record of the transactional id is left as it is, as Kafka
//! leaves it: a producer still using the transaction finds its next batch
//! to that partition refused (INVALID_TXN_STATE) and aborts; markers its
//! coordinator writes later change nothing on a partition where the
//! transaction already ended.
//!
//! Gated behind CLUSTER_ACTION, as in Kafka, when an authorizer is on
//! (`kafka/dispatch.rs`).

use std::collections::HashMap;

use bytes::Bytes;
use floe_metadata::{BatchTxn, TopicId};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::write_txn_markers_request::WritableTxnMarker;
use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};
use tokio::sync::oneshot;

use super::error_codes;
use crate::context::AgentContext;
use crate::produce::AppendOutcome;
use crate::segment::control::{Marker, marker_batch};
use crate::wall_clock;

/// Where each partition's answer comes from: a code known before
/// appending, or the commit of its marker.
enum Answer {
    Code(i16),
    Pending(usize),
}

/// One marker's answers: per topic, per partition.
type TopicAnswers = Vec<(String, Vec<(i32, Answer)>)>;

/// Answers WriteTxnMarkers: checks every partition, appends the markers of
/// all of them in one step, waits for their commit.
pub async fn write(ctx: &AgentContext, req: WriteTxnMarkersRequest) -> WriteTxnMarkersResponse {
    let now_ms = wall_clock::now_ms();
    let mut appends: Vec<(TopicId, i32, Bytes, BatchTxn)> = Vec::new();
    let mut answers: Vec<TopicAnswers> = Vec::new();
    for marker in &req.markers {
        let batch = marker_batch(
            &Marker {
                producer_id: marker.producer_id.0,
                producer_epoch: marker.producer_epoch,
                commit: marker.transaction_result,
                coordinator_epoch: marker.coordinator_epoch,
            },
            now_ms,
        );
        let txn = BatchTxn::Marker {
            producer_id: marker.producer_id.0,
            producer_epoch: marker.producer_epoch,
            commit: marker.transaction_result,
        };
        let mut topics = Vec::with_capacity(marker.topics.len());
        for topic in &marker.topics {
            let name = topic.name.as_str().to_string();
            let resolved = ctx.topics.get(&name).await;
            let mut partitions = Vec::with_capacity(topic.partition_indexes.len());
            for &partition in &topic.partition_indexes {
                let answer = match &resolved {
                    Err(e) => Answer::Code(error_codes::for_agent(e)),
                    Ok(Some(t)) if (0..t.partitions).contains(&partition) => {
                        match check_epoch(ctx, t.id, partition, marker).await {
                            Some(code) => Answer::Code(code),
                            None => {
                                appends.push((t.id, partition, batch.clone(), txn));
                                Answer::Pending(appends.len() - 1)
                            }
                        }
                    }
                    Ok(_) => Answer::Code(ResponseError::UnknownTopicOrPartition.code()),
                };
                partitions.push((partition, answer));
            }
            topics.push((name, partitions));
        }
        answers.push(topics);
    }
    let outcomes = commit(ctx, appends, now_ms).await;
    let markers = req
        .markers
        .iter()
        .zip(answers)
        .map(|(marker, topics)| {
            WritableTxnMarkerResult::default()
                .with_producer_id(marker.producer_id)
                .with_topics(
                    topics
                        .into_iter()
                        .map(|(name, partitions)| {
                            WritableTxnMarkerTopicResult::default()
                                .with_name(kafka_protocol::messages::TopicName(
                                    kafka_protocol::protocol::StrBytes::from_string(name),
                                ))
                                .with_partitions(
                                    partitions
                                        .into_iter()
                                        .map(|(partition, answer)| {
                                            let code = match answer {
                                                Answer::Code(code) => code,
                                                Answer::Pending(i) => outcomes[i],
                                            };
                                            WritableTxnMarkerPartitionResult::default()
                                                .with_partition_index(partition)
                                                .with_error_code(code)
                                        })
                                        .collect(),
                                )
                        })
                        .collect(),
                )
        })
        .collect();
    WriteTxnMarkersResponse::default().with_markers(markers)
}

/// INVALID_PRODUCER_EPOCH if the producer has a transaction open on the
/// partition at a newer epoch than the marker's (a stale marker must not
/// end it), as Kafka's partition leader checks; `None` to append.
async fn check_epoch(
    ctx: &AgentContext,
    topic: TopicId,
    partition: i32,
    marker: &WritableTxnMarker,
) -> Option<i16> {
    match ctx.store.open_transactions(topic, partition).await {
        Err(e) => Some(error_codes::for_metadata(&e)),
        Ok(open) => open
            .iter()
            .any(|t| t.producer_id == marker.producer_id.0 && t.epoch > marker.producer_epoch)
            .then(|| ResponseError::InvalidProducerEpoch.code()),
    }
}

/// Appends `appends` in one step and waits for each commit: the error code
/// of each, in order (0 when committed; a partition deleted meanwhile is
/// UNKNOWN_TOPIC_OR_PARTITION).
async fn commit(
    ctx: &AgentContext,
    appends: Vec<(TopicId, i32, Bytes, BatchTxn)>,
    now_ms: i64,
) -> Vec<i16> {
    if appends.is_empty() {
        return Vec::new();
    }
    let count = appends.len();
    let replies: Vec<oneshot::Receiver<AppendOutcome>> =
        match ctx.producer.append_markers(appends, now_ms).await {
            Ok(replies) => replies,
            Err(e) => return vec![error_codes::for_flush(&e); count],
        };
    let mut codes = Vec::with_capacity(count);
    let mut written: HashMap<i16, u64> = HashMap::new();
    for reply in replies {
        let code = match reply.await {
            Ok(Ok(_)) => 0,
            Ok(Err(e)) => error_codes::for_flush(&e),
            Err(_) => ResponseError::NotLeaderOrFollower.code(),
        };
        *written.entry(code).or_default() += 1;
        codes.push(code);
    }
    tracing::info!(
        ?written,
        "WriteTxnMarkers: markers appended (by error code)"
    );
    codes
}
