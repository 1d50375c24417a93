//! Fetch: read each partition from its offset, and long-poll until
//! `min_bytes` are there or `max_wait_ms` has passed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::FetchTopic;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use tokio::time::Instant;

use super::bounds;
use super::error_codes;
use super::fetch_frame::FetchAnswer;
use crate::context::AgentContext;
use floe_metadata::{Topic, TopicId};

const UNKNOWN: i16 = ResponseError::UnknownTopicOrPartition.code();

/// Longest long poll, whatever the client asks.
const MAX_WAIT_CAP: Duration = Duration::from_secs(60);

/// Record data read, by (topic index, partition index) in the response.
type Records = HashMap<(usize, usize), Vec<Bytes>>;

/// A topic of the request as looked up: `None` if it does not exist, or
/// the error code of the lookup.
type Resolved = Result<Option<Arc<Topic>>, i16>;

/// Serves a Fetch request. Floe keeps no fetch sessions (KIP-227): it
/// answers session id 0, which tells clients to send full requests, and
/// refuses incremental ones with FETCH_SESSION_ID_NOT_FOUND.
pub async fn handle(ctx: &AgentContext, req: FetchRequest, version: i16) -> FetchAnswer {
    ctx.metrics.fetch_requests.inc();
    if version >= 7 && (req.session_id != 0 || req.session_epoch > 0) {
        return FetchAnswer {
            response: FetchResponse::default()
                .with_error_code(ResponseError::FetchSessionIdNotFound.code())
                .with_session_id(0),
            records: HashMap::new(),
        };
    }
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0)).min(MAX_WAIT_CAP);
    let deadline = Instant::now() + wait;
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let max_bytes = usize::try_from(req.max_bytes).unwrap_or(0);
    let resolved = resolve(ctx, &req.topics).await;
    // Watched from before the first read, so a commit landing between a
    // read and the wait after it is not missed.
    let mut watch = ctx
        .watermarks
        .watch(&existing_partitions(&req.topics, &resolved));
    loop {
        watch.seen();
        let (responses, records, bytes, errors) =
            read_all(ctx, &req.topics, &resolved, max_bytes).await;
        if bytes >= min_bytes.max(1) || errors || Instant::now() >= deadline {
            ctx.metrics.fetch_bytes.inc_by(bytes as u64);
            return FetchAnswer {
                response: FetchResponse::default()
                    .with_responses(responses)
                    .with_session_id(0),
                records,
            };
        }
        // Woken by a commit to one of the partitions, or the deadline.
        watch.until_moved(deadline).await;
    }
}

/// The topics asked for, each looked up once per request.
async fn resolve(ctx: &AgentContext, topics: &[FetchTopic]) -> Vec<Resolved> {
    let mut resolved = Vec::with_capacity(topics.len());
    for t in topics {
        let topic = ctx.topics.get(t.topic.as_str()).await;
        resolved.push(topic.map_err(|e| error_codes::for_agent(&e)));
    }
    resolved
}

/// Reads every requested partition once. Returns the topics, their record
/// data, the record bytes read and whether any partition has an error (which
/// ends the poll). The bounds of all partitions come from the store in one
/// round trip, so a poll costs the same however many partitions it covers.
async fn read_all(
    ctx: &AgentContext,
    topics: &[FetchTopic],
    resolved: &[Resolved],
    max_bytes: usize,
) -> (Vec<FetchableTopicResponse>, Records, usize, bool) {
    let bounds = bounds::read(ctx, existing_partitions(topics, resolved)).await;
    let mut total = 0usize;
    let mut errors = false;
    let mut out = Vec::with_capacity(topics.len());
    let mut records = Records::new();
    for (ti, (t, topic)) in topics.iter().zip(resolved).enumerate() {
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for (pi, p) in t.partitions.iter().enumerate() {
            let data = PartitionData::default().with_partition_index(p.partition);
            let known = match (topic, &bounds) {
                (Ok(Some(topic)), Ok(bounds)) => bounds
                    .get(&(topic.id, p.partition))
                    .map(|b| (topic.id, *b))
                    .ok_or(UNKNOWN),
                (Ok(Some(_)), Err(code)) => Err(*code),
                (Ok(None), _) => Err(UNKNOWN),
                (Err(code), _) => Err(*code),
            };
            let result = match known {
                Ok((topic_id, b)) => {
                    let limit = usize::try_from(p.partition_max_bytes)
                        .unwrap_or(0)
                        .min(max_bytes.saturating_sub(total));
                    ctx.reader
                        .read(topic_id, p.partition, b, p.fetch_offset, limit, total == 0)
                        .await
                        .map_err(|e| (error_codes::for_agent(&e), Some(b)))
                }
                Err(code) => Err((code, None)),
            };
            partitions.push(match result {
                Ok(read) => {
                    total += read.records.iter().map(Bytes::len).sum::<usize>();
                    records.insert((ti, pi), read.records);
                    data.with_high_watermark(read.high_watermark)
                        .with_last_stable_offset(read.high_watermark)
                        .with_log_start_offset(read.log_start_offset)
                }
                Err((code, b)) => {
                    errors = true;
                    if code == UNKNOWN {
                        ctx.topics.forget(t.topic.as_str());
                    }
                    ctx.metrics
                        .request_errors
                        .with_label_values(&["Fetch", &code.to_string()])
                        .inc();
                    let data = data.with_error_code(code).with_high_watermark(-1);
                    match b {
                        // The real bounds, so the client can apply its
                        // reset policy.
                        Some(b) if code == ResponseError::OffsetOutOfRange.code() => data
                            .with_high_watermark(b.high_watermark)
                            .with_last_stable_offset(b.high_watermark)
                            .with_log_start_offset(b.log_start_offset),
                        _ => data,
                    }
                }
            });
        }
        out.push(
            FetchableTopicResponse::default()
                .with_topic(t.topic.clone())
                .with_partitions(partitions),
        );
    }
    (out, records, total, errors)
}

/// Every partition asked for that exists (as the topic cache sees it).
fn existing_partitions(topics: &[FetchTopic], resolved: &[Resolved]) -> Vec<(TopicId, i32)> {
    topics
        .iter()
        .zip(resolved)
        .filter_map(|(t, topic)| match topic {
            Ok(Some(topic)) => Some((t, topic)),
            _ => None,
        })
        .flat_map(|(t, topic)| {
            t.partitions
                .iter()
                .filter(|p| (0..topic.partitions).contains(&p.partition))
                .map(|p| (topic.id, p.partition))
        })
        .collect()
}
