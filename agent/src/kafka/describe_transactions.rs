//! DescribeTransactions and ListTransactions: the coordinator's state of
//! transactional ids, read from the metadata store (any agent answers for
//! any id, as any agent coordinates any).

use super::authorize::{Access, Op, TXN_DENIED};
use crate::authz::ResourceType;
use std::collections::HashSet;

use floe_metadata::TxnState;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_transactions_response::{
    TopicData, TransactionState as DescribedState,
};
use kafka_protocol::messages::list_transactions_response::TransactionState as ListedState;
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ListTransactionsRequest,
    ListTransactionsResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::error_codes;
use crate::context::AgentContext;
use crate::wall_clock;

/// Transactional ids ListTransactions reads per store call.
const PAGE: u32 = 1_000;
/// Most transactional ids one ListTransactions answers.
const MAX_LISTED: usize = 100_000;
/// Bytes a compiled transactional id pattern may take (the regex crate
/// matches in linear time; this bounds what a client's pattern costs).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Every state, by Kafka's name, for ListTransactions' filters.
const STATES: [TxnState; 6] = [
    TxnState::Empty,
    TxnState::Ongoing,
    TxnState::PrepareCommit,
    TxnState::PrepareAbort,
    TxnState::CompleteCommit,
    TxnState::CompleteAbort,
];

/// DescribeTransactions: each id's state, producer, timeout, start and
/// partitions; TRANSACTIONAL_ID_NOT_FOUND for an unknown one. As Kafka, an
/// id needs DESCRIBE (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and the
/// partitions of topics the requester may not DESCRIBE are left out.
pub async fn describe(
    ctx: &AgentContext,
    req: DescribeTransactionsRequest,
    access: &Access,
) -> DescribeTransactionsResponse {
    let mut states = Vec::with_capacity(req.transactional_ids.len());
    for id in req.transactional_ids {
        let described = DescribedState::default().with_transactional_id(id.clone());
        if !access.transactional_id(Op::Describe, &id) {
            states.push(
                described
                    .with_error_code(TXN_DENIED)
                    .with_producer_id(ProducerId(-1))
                    .with_producer_epoch(-1)
                    .with_transaction_start_time_ms(-1),
            );
            continue;
        }
        states.push(match ctx.store.transaction(id.as_str()).await {
            Ok(Some(record)) => {
                let mut topics: Vec<TopicData> = Vec::new();
                for (topic_id, partition) in &record.partitions {
                    let Ok(Some(topic)) = ctx.topics.get_by_id(*topic_id).await else {
                        continue;
                    };
                    if !access.topic(Op::Describe, &topic.name) {
                        continue;
                    }
                    match topics.last_mut() {
                        Some(last) if last.topic.as_str() == topic.name => {
                            last.partitions.push(*partition);
                        }
                        _ => topics.push(
                            TopicData::default()
                                .with_topic(TopicName(StrBytes::from_string(topic.name.clone())))
                                .with_partitions(vec![*partition]),
                        ),
                    }
                }
                described
                    .with_transaction_state(StrBytes::from_static_str(record.state.kafka_name()))
                    .with_transaction_timeout_ms(record.timeout_ms)
                    .with_transaction_start_time_ms(record.started_ms)
                    .with_producer_id(ProducerId(record.producer_id))
                    .with_producer_epoch(record.epoch)
                    .with_topics(topics)
            }
            Ok(None) => described
                .with_error_code(ResponseError::TransactionalIdNotFound.code())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1)
                .with_transaction_start_time_ms(-1),
            Err(e) => described.with_error_code(error_codes::for_metadata(&e)),
        });
    }
    DescribeTransactionsResponse::default().with_transaction_states(states)
}

/// v2's transactional id pattern (KIP-1152) as a regex matching whole ids
/// (Kafka matches with RE2/J's `matches()`, whose syntax the regex crate
/// shares); `None` for a null or empty pattern, which passes every id.
fn id_pattern(pattern: Option<&str>) -> Result<Option<regex::Regex>, regex::Error> {
    match pattern {
        None | Some("") => Ok(None),
        Some(p) => regex::RegexBuilder::new(&format!("^(?:{p})$"))
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map(Some),
    }
}

/// ListTransactions: the ids whose state and producer id pass the filters
/// (empty filters pass everything), from v1 that have run at least
/// `duration_filter` ms (-1: any), and from v2 whose id matches
/// `transactional_id_pattern` as a whole (null or empty: any; an invalid
/// pattern is INVALID_REGULAR_EXPRESSION). Unknown state names are
/// answered back. Only the ids the requester may DESCRIBE are listed, as
/// in Kafka.
pub async fn list(
    ctx: &AgentContext,
    req: ListTransactionsRequest,
    access: &Access,
) -> ListTransactionsResponse {
    let pattern = match id_pattern(req.transactional_id_pattern.as_deref()) {
        Ok(pattern) => pattern,
        Err(e) => {
            tracing::debug!(error = %e, "ListTransactions: invalid transactional id pattern");
            return ListTransactionsResponse::default()
                .with_error_code(ResponseError::InvalidRegularExpression.code());
        }
    };
    let mut wanted_states = HashSet::new();
    let mut unknown = Vec::new();
    for name in &req.state_filters {
        match STATES.iter().find(|s| s.kafka_name() == name.as_str()) {
            Some(state) => {
                wanted_states.insert(*state);
            }
            None => unknown.push(name.clone()),
        }
    }
    let producers: HashSet<i64> = req.producer_id_filters.iter().map(|p| p.0).collect();
    let now = wall_clock::now_ms();
    let mut listed = Vec::new();
    let mut after = String::new();
    loop {
        let page = match ctx.store.list_transactions(&after, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                return ListTransactionsResponse::default()
                    .with_error_code(error_codes::for_metadata(&e));
            }
        };
        let Some(last) = page.last() else {
            break;
        };
        after = last.transactional_id.clone();
        for record in page {
            let state_ok = wanted_states.is_empty() || wanted_states.contains(&record.state);
            let producer_ok = producers.is_empty() || producers.contains(&record.producer_id);
            let duration_ok = req.duration_filter < 0
                || (record.started_ms >= 0 && now - record.started_ms >= req.duration_filter);
            let id_ok = pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&record.transactional_id));
            if state_ok
                && producer_ok
                && duration_ok
                && id_ok
                && listed.len() < MAX_LISTED
                && access.shows(
                    Op::Describe,
                    ResourceType::TransactionalId,
                    &record.transactional_id,
                )
            {
                listed.push(
                    ListedState::default()
                        .with_transactional_id(
                            StrBytes::from_string(record.transactional_id).into(),
                        )
                        .with_producer_id(ProducerId(record.producer_id))
                        .with_transaction_state(StrBytes::from_static_str(
                            record.state.kafka_name(),
                        )),
                );
            }
        }
        if listed.len() >= MAX_LISTED {
            break;
        }
    }
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(listed)
}
