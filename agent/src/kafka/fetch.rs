//! Fetch: read each partition from its offset, and long-poll until
//! `min_bytes` are there or `max_wait_ms` has passed. From v7 a request may
//! belong to an incremental fetch session (KIP-227, `fetch/session.rs`):
//! then the partitions read are the session's, and the answer holds only
//! those with news.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::FetchTopic;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse, ProducerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;

use super::authorize::{Access, Op, TOPIC_DENIED};
use super::bounds;
use super::error_codes;
use super::fetch_frame::FetchAnswer;
use crate::context::AgentContext;
use crate::fetch::session::{
    Answer, FetchContext, Found, PartitionKey, SessionError, SessionRequest, Wanted,
};
use floe_metadata::{PartitionOffsets, Topic, TopicId};

const UNKNOWN: i16 = ResponseError::UnknownTopicOrPartition.code();

/// Longest long poll, whatever the client asks.
const MAX_WAIT_CAP: Duration = Duration::from_secs(60);

/// First Fetch version with session fields.
const SESSIONS: i16 = 7;

/// `isolation_level` of a read_committed consumer.
const READ_COMMITTED: i8 = 1;

/// Most aborted transactions answered for one partition of one fetch:
/// those of the earliest records served come first.
const MAX_ABORTED_PER_PARTITION: u32 = 1_000;

/// A topic as looked up: `None` if it does not exist, or the error code of
/// the lookup.
type Resolved = Result<Option<Arc<Topic>>, i16>;

/// The topics of a request, each looked up once per request.
type Topics = HashMap<Arc<str>, Resolved>;

/// One partition as read: its answer without records, its record data, and
/// what the session needs to know of it.
#[derive(Debug)]
struct Read {
    data: PartitionData,
    /// `None` for a partition answered with an error (null records).
    records: Option<Vec<Bytes>>,
    found: Found,
}

/// Serves a Fetch request. A topic the requester may not READ is
/// TOPIC_AUTHORIZATION_FAILED on each of its partitions, whether the
/// request named it or its session holds it (Kafka checks a session's
/// partitions on every fetch).
pub async fn handle(
    ctx: &AgentContext,
    req: FetchRequest,
    version: i16,
    access: &Access,
) -> FetchAnswer {
    ctx.metrics.fetch_requests.inc();
    let context = if version >= SESSIONS {
        match ctx
            .fetch_sessions
            .open(session_request(&req), std::time::Instant::now())
        {
            Ok(context) => {
                ctx.metrics
                    .fetch_session_requests
                    .with_label_values(&[context.kind()])
                    .inc();
                context
            }
            Err(e) => return refused(ctx, &e),
        }
    } else {
        FetchContext::Sessionless {
            partitions: wanted(&req.topics),
        }
    };
    let partitions = context.partitions();
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0)).min(MAX_WAIT_CAP);
    let deadline = Instant::now() + wait;
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let max_bytes = usize::try_from(req.max_bytes).unwrap_or(0);
    let topics = resolve(ctx, partitions, access).await;
    let existing = existing_partitions(partitions, &topics);
    // Watched from before the first read, so a commit landing between a
    // read and the wait after it is not missed.
    let mut watch = ctx.watermarks.watch(&existing);
    let committed = req.isolation_level == READ_COMMITTED;
    loop {
        watch.seen();
        let (reads, bytes, errors) =
            read_all(ctx, partitions, &topics, &existing, max_bytes, committed).await;
        if bytes >= min_bytes.max(1) || errors || Instant::now() >= deadline {
            ctx.metrics.fetch_bytes.inc_by(bytes as u64);
            let found: Vec<Found> = reads.iter().map(|r| r.found).collect();
            return match ctx
                .fetch_sessions
                .answer(&context, &found, std::time::Instant::now())
            {
                Ok(answer) => assemble(partitions, reads, answer),
                Err(e) => refused(ctx, &e),
            };
        }
        // Woken by a commit to one of the partitions, or the deadline.
        watch.until_moved(deadline).await;
    }
}

/// The session part of a request. Floe has no followers, so no request
/// is privileged in the session cache, whatever replica id it claims.
fn session_request(req: &FetchRequest) -> SessionRequest {
    let forgotten = req
        .forgotten_topics_data
        .iter()
        .flat_map(|t| {
            let topic: Arc<str> = Arc::from(t.topic.as_str());
            t.partitions.iter().map(move |p| PartitionKey {
                topic: topic.clone(),
                partition: *p,
            })
        })
        .collect();
    SessionRequest {
        session_id: req.session_id,
        epoch: req.session_epoch,
        privileged: false,
        partitions: wanted(&req.topics),
        forgotten,
    }
}

/// The partitions of a request, in request order, with owned topic names.
fn wanted(topics: &[FetchTopic]) -> Vec<(PartitionKey, Wanted)> {
    let mut out = Vec::with_capacity(topics.iter().map(|t| t.partitions.len()).sum());
    for t in topics {
        let topic: Arc<str> = Arc::from(t.topic.as_str());
        for p in &t.partitions {
            out.push((
                PartitionKey {
                    topic: topic.clone(),
                    partition: p.partition,
                },
                Wanted {
                    fetch_offset: p.fetch_offset,
                    max_bytes: p.partition_max_bytes,
                },
            ));
        }
    }
    out
}

/// A request its session cannot serve: the error alone, session id 0,
/// which tells the client to start over with a full request.
fn refused(ctx: &AgentContext, e: &SessionError) -> FetchAnswer {
    let code = match e {
        SessionError::NotFound(_) => ResponseError::FetchSessionIdNotFound.code(),
        SessionError::InvalidEpoch { .. } => ResponseError::InvalidFetchSessionEpoch.code(),
    };
    tracing::debug!(error = %e, "fetch session refused");
    ctx.metrics
        .request_errors
        .with_label_values(&["Fetch", &code.to_string()])
        .inc();
    FetchAnswer {
        response: FetchResponse::default()
            .with_error_code(code)
            .with_session_id(0),
        records: HashMap::new(),
    }
}

/// The answer: the partitions the session keeps, grouped by topic in the
/// order the topics first appear.
fn assemble(
    partitions: &[(PartitionKey, Wanted)],
    reads: Vec<Read>,
    answer: Answer,
) -> FetchAnswer {
    let mut responses: Vec<FetchableTopicResponse> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut records = HashMap::new();
    for (((key, _), read), keep) in partitions.iter().zip(reads).zip(answer.keep) {
        if !keep {
            continue;
        }
        let ti = *index.entry(&*key.topic).or_insert_with(|| {
            responses.push(
                FetchableTopicResponse::default()
                    .with_topic(TopicName(StrBytes::from_string(key.topic.to_string()))),
            );
            responses.len() - 1
        });
        let topic = &mut responses[ti];
        if let Some(data) = read.records {
            records.insert((ti, topic.partitions.len()), data);
        }
        topic.partitions.push(read.data);
    }
    FetchAnswer {
        response: FetchResponse::default()
            .with_responses(responses)
            .with_session_id(answer.session_id),
        records,
    }
}

/// Looks up each topic of the partitions once (and checks READ on it once).
async fn resolve(
    ctx: &AgentContext,
    partitions: &[(PartitionKey, Wanted)],
    access: &Access,
) -> Topics {
    let mut topics = Topics::new();
    for (key, _) in partitions {
        if !topics.contains_key(&key.topic) {
            if !access.topic(Op::Read, &key.topic) {
                topics.insert(key.topic.clone(), Err(TOPIC_DENIED));
                continue;
            }
            let topic = ctx.topics.get(&key.topic).await;
            topics.insert(
                key.topic.clone(),
                topic.map_err(|e| error_codes::for_agent(&e)),
            );
        }
    }
    topics
}

/// Reads every partition once. Returns them in order, the record bytes
/// read and whether any partition has an error (which ends the poll). The
/// bounds of all partitions come from the store in one round trip, so a
/// poll costs the same however many partitions it covers.
///
/// At read_committed (`committed`), nothing at or above a partition's last
/// stable offset is served, and the aborted transactions overlapping what
/// is served are answered with it: looked up only when the partition has
/// an aborted range at or above the fetch offset, so partitions without
/// transactions cost nothing more.
async fn read_all(
    ctx: &AgentContext,
    partitions: &[(PartitionKey, Wanted)],
    topics: &Topics,
    existing: &[(TopicId, i32)],
    max_bytes: usize,
    committed: bool,
) -> (Vec<Read>, usize, bool) {
    let bounds = bounds::read(ctx, existing.to_vec()).await;
    let mut total = 0usize;
    let mut errors = false;
    let mut out = Vec::with_capacity(partitions.len());
    for (key, wanted) in partitions {
        let data = PartitionData::default().with_partition_index(key.partition);
        let topic = topics.get(&key.topic).cloned().unwrap_or(Ok(None));
        let known = match (&topic, &bounds) {
            (Ok(Some(topic)), Ok(bounds)) => bounds
                .get(&(topic.id, key.partition))
                .map(|b| (topic.id, *b))
                .ok_or(UNKNOWN),
            (Ok(Some(_)), Err(code)) => Err(*code),
            (Ok(None), _) => Err(UNKNOWN),
            (Err(code), _) => Err(*code),
        };
        let result = match known {
            Ok((topic_id, b)) => {
                let limit = usize::try_from(wanted.max_bytes)
                    .unwrap_or(0)
                    .min(max_bytes.saturating_sub(total));
                let stop = if committed {
                    b.last_stable_offset
                } else {
                    b.high_watermark
                };
                let read = ctx
                    .reader
                    .read_until(
                        topic_id,
                        key.partition,
                        b,
                        wanted.fetch_offset,
                        limit,
                        total == 0,
                        stop,
                    )
                    .await;
                match read {
                    Ok(read) => aborted(
                        ctx,
                        topic_id,
                        key.partition,
                        b,
                        wanted.fetch_offset,
                        committed,
                        &read,
                    )
                    .await
                    .map(|aborted| (read, b, aborted)),
                    Err(e) => Err(e),
                }
                .map_err(|e| (error_codes::for_agent(&e), Some(b)))
            }
            Err(code) => Err((code, None)),
        };
        out.push(match result {
            Ok((read, b, aborted)) => {
                let bytes = read.records.iter().map(Bytes::len).sum::<usize>();
                total += bytes;
                let data = match aborted {
                    Some(aborted) => data.with_aborted_transactions(Some(aborted)),
                    None => data,
                };
                Read {
                    data: data
                        .with_high_watermark(read.high_watermark)
                        .with_last_stable_offset(b.last_stable_offset)
                        .with_log_start_offset(read.log_start_offset),
                    found: Found {
                        has_records: bytes > 0,
                        high_watermark: read.high_watermark,
                        log_start_offset: read.log_start_offset,
                        error: false,
                    },
                    records: Some(read.records),
                }
            }
            Err((code, b)) => {
                errors = true;
                if code == UNKNOWN {
                    ctx.topics.forget(&key.topic);
                }
                ctx.metrics
                    .request_errors
                    .with_label_values(&["Fetch", &code.to_string()])
                    .inc();
                let data = data.with_error_code(code).with_high_watermark(-1);
                let data = match b {
                    // The real bounds, so the client can apply its reset
                    // policy.
                    Some(b) if code == ResponseError::OffsetOutOfRange.code() => data
                        .with_high_watermark(b.high_watermark)
                        .with_last_stable_offset(b.last_stable_offset)
                        .with_log_start_offset(b.log_start_offset),
                    _ => data,
                };
                Read {
                    found: Found {
                        has_records: false,
                        high_watermark: data.high_watermark,
                        log_start_offset: data.log_start_offset,
                        error: true,
                    },
                    data,
                    records: None,
                }
            }
        });
    }
    (out, total, errors)
}

/// The aborted transactions a read_committed fetch answers with its
/// records (`None` at read_uncommitted): those overlapping the offsets from
/// `fetch_offset` to the last stable offset, looked up only when the
/// partition has an aborted range that far and records were served.
async fn aborted(
    ctx: &AgentContext,
    topic: TopicId,
    partition: i32,
    bounds: PartitionOffsets,
    fetch_offset: i64,
    committed: bool,
    read: &crate::fetch::PartitionRead,
) -> crate::error::Result<Option<Vec<AbortedTransaction>>> {
    if !committed {
        return Ok(None);
    }
    if read.records.is_empty() || bounds.last_aborted_offset < fetch_offset {
        return Ok(Some(Vec::new()));
    }
    let found = ctx
        .store
        .aborted_transactions(
            topic,
            partition,
            fetch_offset,
            bounds.last_stable_offset.saturating_sub(1),
            MAX_ABORTED_PER_PARTITION,
        )
        .await?;
    Ok(Some(
        found
            .into_iter()
            .map(|a| {
                AbortedTransaction::default()
                    .with_producer_id(ProducerId(a.producer_id))
                    .with_first_offset(a.first_offset)
            })
            .collect(),
    ))
}

/// Every partition asked for that exists (as the topic cache sees it).
fn existing_partitions(
    partitions: &[(PartitionKey, Wanted)],
    topics: &Topics,
) -> Vec<(TopicId, i32)> {
    partitions
        .iter()
        .filter_map(|(key, _)| match topics.get(&key.topic) {
            Some(Ok(Some(topic))) if (0..topic.partitions).contains(&key.partition) => {
                Some((topic.id, key.partition))
            }
            _ => None,
        })
        .collect()
}
