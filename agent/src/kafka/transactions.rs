//! The transactional APIs a producer calls on its transaction coordinator:
//! AddPartitionsToTxn (v0–v3 one transaction, v4+ batched with
//! `verify_only`), AddOffsetsToTxn, TxnOffsetCommit and EndTxn. The rules
//! are the coordinator's (`txn/`); this file maps requests and answers.

use std::sync::Arc;

use floe_metadata::{CommittedOffset, Topic, TopicId};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};

use super::error_codes::{for_agent, for_txn};
use crate::context::AgentContext;
use crate::wall_clock;

/// First AddPartitionsToTxn version with batched transactions (KIP-890).
const BATCHED: i16 = 4;
/// First versions that know PRODUCER_FENCED (KIP-588).
const ADD_PARTITIONS_FENCED: i16 = 2;
const ADD_OFFSETS_FENCED: i16 = 2;
const END_TXN_FENCED: i16 = 2;

const UNKNOWN: i16 = ResponseError::UnknownTopicOrPartition.code();
const NOT_ATTEMPTED: i16 = ResponseError::OperationNotAttempted.code();

/// AddPartitionsToTxn.
pub async fn add_partitions(
    ctx: &AgentContext,
    req: AddPartitionsToTxnRequest,
    version: i16,
) -> AddPartitionsToTxnResponse {
    if version < BATCHED {
        let txn = AddPartitionsToTxnTransaction::default()
            .with_transactional_id(req.v3_and_below_transactional_id)
            .with_producer_id(req.v3_and_below_producer_id)
            .with_producer_epoch(req.v3_and_below_producer_epoch)
            .with_topics(req.v3_and_below_topics);
        let results = add_one(ctx, &txn, version).await;
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    let mut results = Vec::with_capacity(req.transactions.len());
    for txn in &req.transactions {
        let topic_results = add_one(ctx, txn, version).await;
        results.push(
            AddPartitionsToTxnResult::default()
                .with_transactional_id(txn.transactional_id.clone())
                .with_topic_results(topic_results),
        );
    }
    AddPartitionsToTxnResponse::default().with_results_by_transaction(results)
}

/// One transaction's partitions: all are added, or none is (an unknown
/// partition is UNKNOWN_TOPIC_OR_PARTITION and the others
/// OPERATION_NOT_ATTEMPTED, as Kafka answers).
async fn add_one(
    ctx: &AgentContext,
    txn: &AddPartitionsToTxnTransaction,
    version: i16,
) -> Vec<AddPartitionsToTxnTopicResult> {
    let (partitions, unknown) = resolve(ctx, &txn.topics).await;
    let code = if unknown {
        None
    } else {
        let added = ctx
            .txn
            .add_partitions(
                txn.transactional_id.as_str(),
                txn.producer_id.0,
                txn.producer_epoch,
                &partitions,
                txn.verify_only,
            )
            .await;
        Some(match added {
            Ok(()) => 0,
            Err(e) => {
                tracing::debug!(transactional_id = %txn.transactional_id.as_str(), error = %e, "AddPartitionsToTxn refused");
                for_txn(&e, version >= ADD_PARTITIONS_FENCED)
            }
        })
    };
    let mut results = Vec::with_capacity(txn.topics.len());
    for topic in &txn.topics {
        let known = ctx.topics.get(topic.name.as_str()).await.ok().flatten();
        let by_partition = topic
            .partitions
            .iter()
            .map(|p| {
                let error = code.unwrap_or_else(|| match &known {
                    Some(t) if (0..t.partitions).contains(p) => NOT_ATTEMPTED,
                    _ => UNKNOWN,
                });
                AddPartitionsToTxnPartitionResult::default()
                    .with_partition_index(*p)
                    .with_partition_error_code(error)
            })
            .collect();
        results.push(
            AddPartitionsToTxnTopicResult::default()
                .with_name(topic.name.clone())
                .with_results_by_partition(by_partition),
        );
    }
    results
}

/// The partitions asked for as (topic id, partition), sorted, and whether
/// any of them does not exist.
async fn resolve(
    ctx: &AgentContext,
    topics: &[AddPartitionsToTxnTopic],
) -> (Vec<(TopicId, i32)>, bool) {
    let mut partitions = Vec::new();
    let mut unknown = false;
    for topic in topics {
        let found: Option<Arc<Topic>> = ctx.topics.get(topic.name.as_str()).await.ok().flatten();
        for p in &topic.partitions {
            match &found {
                Some(t) if (0..t.partitions).contains(p) => partitions.push((t.id, *p)),
                _ => unknown = true,
            }
        }
    }
    partitions.sort_unstable();
    partitions.dedup();
    (partitions, unknown)
}

/// AddOffsetsToTxn.
pub async fn add_offsets(
    ctx: &AgentContext,
    req: AddOffsetsToTxnRequest,
    version: i16,
) -> AddOffsetsToTxnResponse {
    let added = ctx
        .txn
        .add_group(
            req.transactional_id.as_str(),
            req.producer_id.0,
            req.producer_epoch,
            req.group_id.as_str(),
        )
        .await;
    let code = match added {
        Ok(()) => 0,
        Err(e) => for_txn(&e, version >= ADD_OFFSETS_FENCED),
    };
    AddOffsetsToTxnResponse::default().with_error_code(code)
}

/// TxnOffsetCommit: the offsets wait in the transaction until it commits.
/// Offsets of unknown partitions are UNKNOWN_TOPIC_OR_PARTITION; the others
/// share the transaction's answer.
pub async fn commit_offsets(
    ctx: &AgentContext,
    req: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let now_ms = wall_clock::now_ms();
    let mut offsets = Vec::new();
    let mut planned = Vec::with_capacity(req.topics.len());
    for topic in &req.topics {
        let found = ctx.topics.get(topic.name.as_str()).await;
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in &topic.partitions {
            let error = match &found {
                Ok(Some(t)) if (0..t.partitions).contains(&p.partition_index) => {
                    offsets.push(CommittedOffset {
                        topic_id: t.id,
                        partition: p.partition_index,
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                        commit_timestamp_ms: now_ms,
                    });
                    None
                }
                Ok(_) => Some(UNKNOWN),
                Err(e) => Some(for_agent(e)),
            };
            partitions.push((p.partition_index, error));
        }
        planned.push((topic.name.clone(), partitions));
    }
    let code = if offsets.is_empty() {
        0
    } else {
        let committed = ctx
            .txn
            .commit_offsets(
                req.transactional_id.as_str(),
                req.producer_id.0,
                req.producer_epoch,
                req.group_id.as_str(),
                &offsets,
            )
            .await;
        match committed {
            Ok(()) => 0,
            // The group coordinator's answer to a fenced producer.
            Err(e) => for_txn(&e, false),
        }
    };
    let topics = planned
        .into_iter()
        .map(|(name, partitions)| {
            TxnOffsetCommitResponseTopic::default()
                .with_name(name)
                .with_partitions(
                    partitions
                        .into_iter()
                        .map(|(index, error)| {
                            TxnOffsetCommitResponsePartition::default()
                                .with_partition_index(index)
                                .with_error_code(error.unwrap_or(code))
                        })
                        .collect(),
                )
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}

/// EndTxn: answered once the markers are committed.
pub async fn end(ctx: &AgentContext, req: EndTxnRequest, version: i16) -> EndTxnResponse {
    let ended = ctx
        .txn
        .end(
            req.transactional_id.as_str(),
            req.producer_id.0,
            req.producer_epoch,
            req.committed,
        )
        .await;
    let code = match ended {
        Ok(()) => 0,
        Err(e) => {
            tracing::debug!(transactional_id = %req.transactional_id.as_str(), error = %e, "EndTxn refused");
            for_txn(&e, version >= END_TXN_FENCED)
        }
    };
    EndTxnResponse::default().with_error_code(code)
}
