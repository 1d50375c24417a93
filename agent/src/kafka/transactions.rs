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

use super::authorize::{Access, CLUSTER_DENIED, GROUP_DENIED, Op, TOPIC_DENIED, TXN_DENIED};
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

/// AddPartitionsToTxn. The batched form (v4+, sent by brokers) needs
/// CLUSTER_ACTION on the cluster unless every transaction is verify-only,
/// as in Kafka; each transaction needs WRITE on its id and on its topics.
pub async fn add_partitions(
    ctx: &AgentContext,
    req: AddPartitionsToTxnRequest,
    version: i16,
    access: &Access,
) -> AddPartitionsToTxnResponse {
    if version >= BATCHED
        && !req.transactions.iter().all(|t| t.verify_only)
        && !access.cluster(Op::ClusterAction)
    {
        return AddPartitionsToTxnResponse::default().with_error_code(CLUSTER_DENIED);
    }
    if version < BATCHED {
        let txn = AddPartitionsToTxnTransaction::default()
            .with_transactional_id(req.v3_and_below_transactional_id)
            .with_producer_id(req.v3_and_below_producer_id)
            .with_producer_epoch(req.v3_and_below_producer_epoch)
            .with_topics(req.v3_and_below_topics);
        let results = add_one(ctx, &txn, version, access).await;
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    let mut results = Vec::with_capacity(req.transactions.len());
    for txn in &req.transactions {
        let topic_results = add_one(ctx, txn, version, access).await;
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
/// OPERATION_NOT_ATTEMPTED, as Kafka answers). Without WRITE on the
/// transactional id every partition is TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
/// a topic without WRITE is TOPIC_AUTHORIZATION_FAILED and, like an unknown
/// partition, stops the others.
async fn add_one(
    ctx: &AgentContext,
    txn: &AddPartitionsToTxnTransaction,
    version: i16,
    access: &Access,
) -> Vec<AddPartitionsToTxnTopicResult> {
    if !access.transactional_id(Op::Write, &txn.transactional_id) {
        return txn
            .topics
            .iter()
            .map(|topic| topic_result(topic, |_| TXN_DENIED))
            .collect();
    }
    let denied: Vec<bool> = txn
        .topics
        .iter()
        .map(|t| !access.topic(Op::Write, &t.name))
        .collect();
    let (partitions, unknown) = resolve(ctx, &txn.topics).await;
    let code = if unknown || denied.contains(&true) {
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
    for (topic, denied) in txn.topics.iter().zip(denied) {
        if denied {
            results.push(topic_result(topic, |_| TOPIC_DENIED));
            continue;
        }
        let known = ctx.topics.get(topic.name.as_str()).await.ok().flatten();
        results.push(topic_result(topic, |p| {
            code.unwrap_or_else(|| match &known {
                Some(t) if (0..t.partitions).contains(&p) => NOT_ATTEMPTED,
                _ => UNKNOWN,
            })
        }));
    }
    results
}

/// One topic's answer, each partition's code from `error`.
fn topic_result(
    topic: &AddPartitionsToTxnTopic,
    error: impl Fn(i32) -> i16,
) -> AddPartitionsToTxnTopicResult {
    let by_partition = topic
        .partitions
        .iter()
        .map(|p| {
            AddPartitionsToTxnPartitionResult::default()
                .with_partition_index(*p)
                .with_partition_error_code(error(*p))
        })
        .collect();
    AddPartitionsToTxnTopicResult::default()
        .with_name(topic.name.clone())
        .with_results_by_partition(by_partition)
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

/// AddOffsetsToTxn: needs WRITE on the transactional id and READ on the
/// group.
pub async fn add_offsets(
    ctx: &AgentContext,
    req: AddOffsetsToTxnRequest,
    version: i16,
    access: &Access,
) -> AddOffsetsToTxnResponse {
    if !access.transactional_id(Op::Write, &req.transactional_id) {
        return AddOffsetsToTxnResponse::default().with_error_code(TXN_DENIED);
    }
    if !access.group(Op::Read, &req.group_id) {
        return AddOffsetsToTxnResponse::default().with_error_code(GROUP_DENIED);
    }
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
/// share the transaction's answer. As Kafka: without WRITE on the
/// transactional id, or READ on the group, every partition gets that
/// authorization error; a topic without READ gets TOPIC_AUTHORIZATION_FAILED.
pub async fn commit_offsets(
    ctx: &AgentContext,
    req: TxnOffsetCommitRequest,
    access: &Access,
) -> TxnOffsetCommitResponse {
    let refusal = if !access.transactional_id(Op::Write, &req.transactional_id) {
        Some(TXN_DENIED)
    } else if !access.group(Op::Read, &req.group_id) {
        Some(GROUP_DENIED)
    } else {
        None
    };
    let now_ms = wall_clock::now_ms();
    let mut offsets = Vec::new();
    let mut planned = Vec::with_capacity(req.topics.len());
    for topic in &req.topics {
        let refusal =
            refusal.or_else(|| (!access.topic(Op::Read, &topic.name)).then_some(TOPIC_DENIED));
        let found = match refusal {
            Some(_) => Ok(None),
            None => ctx.topics.get(topic.name.as_str()).await,
        };
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in &topic.partitions {
            let error = match &found {
                _ if refusal.is_some() => refusal,
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

/// EndTxn: answered once the markers are committed. Needs WRITE on the
/// transactional id.
pub async fn end(
    ctx: &AgentContext,
    req: EndTxnRequest,
    version: i16,
    access: &Access,
) -> EndTxnResponse {
    if !access.transactional_id(Op::Write, &req.transactional_id) {
        return EndTxnResponse::default().with_error_code(TXN_DENIED);
    }
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
