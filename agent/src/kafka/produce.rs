//! Produce: validate each partition's batches, append them to the pending
//! segment in request order, and answer once their flush is committed.
//!
//! The edge refuses what Kafka refuses, partition by partition, before
//! anything reaches the pending segment, so that one producer's bad batch
//! is its own error and never fails a flush shared with others: the batch
//! checks of [`validate_produced`] and [`check_timestamps`] (with the
//! topic's `message.timestamp.before.max.ms` / `after.max.ms`) on the
//! header, then every record read as Kafka's log validator reads it
//! ([`check_records`], on a blocking thread when the batch is compressed),
//! and, on a topic whose `cleanup.policy` has `compact`, that every record
//! has a key; plus the request-wide checks Kafka makes first (transactional batches
//! without a transactional id, `acks` other than 0, 1 and -1).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;

use floe_metadata::Topic;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::oneshot;

use super::authorize::{self, Access, Op, TOPIC_DENIED, get_or_create_topic};
use super::error_codes;
use crate::configs::{self, CleanupPolicy, names};
use crate::context::AgentContext;
use crate::produce::{AppendOutcome, AppendTime, FlushError};
use crate::segment::batch::{
    BatchError, BatchHeader, TimestampLimits, check_timestamps, set_log_append_time,
    validate_produced,
};
use crate::segment::records::{
    MAX_PRODUCED_RECORDS_BYTES, RecordChecks, RecordsRefused, check_records,
};
use crate::wall_clock;

/// Shortest wait for a flush, whatever `timeout_ms` the client sent: a flush
/// takes at least the flush interval.
const MIN_PRODUCE_WAIT: Duration = Duration::from_secs(1);
/// zstd batches need Produce v7 or later (KIP-110).
const ZSTD_MIN_VERSION: i16 = 7;
const COMPRESSION_MASK: i16 = 0x07;
const ZSTD: i16 = 4;

/// One partition's fate after admission.
enum Admitted {
    /// Appended; the append time when the topic's timestamps are
    /// LogAppendTime.
    Waiting(i32, oneshot::Receiver<AppendOutcome>, Option<i64>),
    Refused(i32, i16),
    /// Refused by a check of its batch, which says why.
    Invalid(i32, BatchError),
}

/// The code every partition gets when the whole request is refused for its
/// transactional batches, if it is: as Kafka (checked before anything
/// else), a transactional batch in a request without a transactional id,
/// or whose requester may not WRITE that id, is
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
fn transactional_refusal(req: &ProduceRequest, access: &Access) -> Option<i16> {
    let transactional = req.topic_data.iter().any(|topic| {
        topic.partition_data.iter().any(|p| {
            p.records
                .as_deref()
                .and_then(|records| BatchHeader::parse(records).ok())
                .is_some_and(|header| header.is_transactional())
        })
    });
    let authorized = || {
        req.transactional_id
            .as_ref()
            .is_some_and(|id| access.transactional_id(Op::Write, id))
    };
    (transactional && !authorized()).then_some(authorize::TXN_DENIED)
}

/// `acks` other than 0, 1 and -1 is INVALID_REQUIRED_ACKS on every
/// partition the requester may write (Kafka checks it after the ACLs).
fn acks_refusal(req: &ProduceRequest) -> Option<i16> {
    (!(-1..=1).contains(&req.acks)).then(|| ResponseError::InvalidRequiredAcks.code())
}

/// The timestamp window of `topic`: its own configs, else the broker's
/// (dynamic, then static). A value that does not parse (topics created
/// before configs were checked) leaves the agent's static default in force.
fn timestamp_limits(ctx: &AgentContext, topic: &Topic) -> TimestampLimits {
    let defaults = ctx.timestamp_limits;
    let read = |key: &str, default: i64| {
        configs::topic_value(key, &topic.config, &ctx.broker_configs)
            .and_then(|value| value.trim().parse::<i64>().ok())
            .filter(|ms| *ms >= 0)
            .unwrap_or(default)
    };
    TimestampLimits {
        before_max_ms: read(names::TIMESTAMP_BEFORE_MAX_MS, defaults.before_max_ms),
        after_max_ms: read(names::TIMESTAMP_AFTER_MAX_MS, defaults.after_max_ms),
    }
}

/// A partition's answer to a batch refused by a check: its code, Kafka's
/// message, and the index of the offending record when it is known (the
/// first record's timestamp is the header's `baseTimestamp`). Keyless
/// records on a compacted topic get Kafka's `LogValidator` messages: one
/// record error each, and a summary of the first three.
fn invalid_response(
    resp: PartitionProduceResponse,
    topic: &str,
    error: &BatchError,
) -> PartitionProduceResponse {
    if let BatchError::Records(RecordsRefused::MissingKeys { indexes, count }) = error {
        let partition = resp.index;
        let each = format!(
            "Compacted topic cannot accept message without key in topic partition {topic}-{partition}."
        );
        let shown: Vec<String> = indexes
            .iter()
            .take(3)
            .map(|i| format!("RecordError(batchIndex={i}, message='{each}')"))
            .collect();
        let summary = format!(
            "One or more records have been rejected due to {count} record errors in total, and only showing the first three errors at most: [{}]",
            shown.join(", ")
        );
        let each = StrBytes::from_string(each);
        let record_errors = indexes
            .iter()
            .map(|i| {
                BatchIndexAndErrorMessage::default()
                    .with_batch_index(*i)
                    .with_batch_index_error_message(Some(each.clone()))
            })
            .collect();
        return resp
            .with_error_code(error_codes::for_batch(error))
            .with_base_offset(-1)
            .with_record_errors(record_errors)
            .with_error_message(Some(StrBytes::from_string(summary)));
    }
    let message = StrBytes::from_string(error.to_string());
    let record = match error {
        BatchError::TimestampOutOfRange {
            first_record: true, ..
        } => Some(0),
        BatchError::Records(RecordsRefused::Timestamp { index, .. }) => Some(*index),
        _ => None,
    };
    let record_errors = record
        .map(|index| {
            BatchIndexAndErrorMessage::default()
                .with_batch_index(index)
                .with_batch_index_error_message(Some(message.clone()))
        })
        .into_iter()
        .collect();
    resp.with_error_code(error_codes::for_batch(error))
        .with_base_offset(-1)
        .with_record_errors(record_errors)
        .with_error_message(Some(message))
}

/// Admits a Produce request: everything that must happen in request order
/// (validation and the append) happens before this returns. The returned
/// future waits for the commit and yields the response, or `None` for
/// `acks=0`, which Kafka never answers.
///
/// A topic the requester may not WRITE is TOPIC_AUTHORIZATION_FAILED on
/// every partition; a missing topic is auto-created only for a requester
/// that may create it. Idempotent batches need nothing more: Kafka 4.x
/// takes WRITE on the topic in place of IDEMPOTENT_WRITE on the cluster.
pub async fn admit(
    ctx: &Arc<AgentContext>,
    req: ProduceRequest,
    version: i16,
    access: &Access,
) -> impl Future<Output = Option<ProduceResponse>> + Send + 'static {
    ctx.metrics.produce_requests.inc();
    let (refusal, acks) = (transactional_refusal(&req, access), acks_refusal(&req));
    let mut topics = Vec::with_capacity(req.topic_data.len());
    for topic_data in req.topic_data {
        let name = topic_data.name;
        let refusal = refusal
            .or_else(|| (!access.topic(Op::Write, &name)).then_some(TOPIC_DENIED))
            .or(acks);
        if let Some(code) = refusal {
            let partitions = topic_data
                .partition_data
                .iter()
                .map(|p| Admitted::Refused(p.index, code))
                .collect();
            topics.push((name, partitions));
            continue;
        }
        let (topic, create_refused) = get_or_create_topic(ctx, access, &name, true).await;
        let mut partitions = Vec::with_capacity(topic_data.partition_data.len());
        for p in topic_data.partition_data {
            let admitted = match &topic {
                Ok(Some(t)) if (0..t.partitions).contains(&p.index) => {
                    admit_partition(ctx, t, p, version).await
                }
                Ok(_) if create_refused => Admitted::Refused(p.index, TOPIC_DENIED),
                Ok(_) => Admitted::Refused(p.index, ResponseError::UnknownTopicOrPartition.code()),
                Err(e) => Admitted::Refused(p.index, error_codes::for_agent(e)),
            };
            partitions.push(admitted);
        }
        topics.push((name, partitions));
    }
    let acks = req.acks;
    let wait =
        Duration::from_millis(u64::try_from(req.timeout_ms).unwrap_or(0)).max(MIN_PRODUCE_WAIT);
    let ctx = ctx.clone();
    async move {
        let mut responses = Vec::with_capacity(topics.len());
        for (name, partitions) in topics {
            let mut out = Vec::with_capacity(partitions.len());
            for admitted in partitions {
                let mut log_append_time = None;
                let (index, result) = match admitted {
                    Admitted::Refused(index, code) => (index, Err(code)),
                    Admitted::Invalid(index, error) => {
                        let code = error_codes::for_batch(&error);
                        ctx.metrics
                            .request_errors
                            .with_label_values(&["Produce", &code.to_string()])
                            .inc();
                        let resp = PartitionProduceResponse::default().with_index(index);
                        out.push(invalid_response(resp, name.as_str(), &error));
                        continue;
                    }
                    Admitted::Waiting(index, rx, append_time) => {
                        log_append_time = append_time;
                        let outcome = match tokio::time::timeout(wait, rx).await {
                            Ok(Ok(Ok(appended))) => Ok(appended),
                            Ok(Ok(Err(e))) => Err(error_codes::for_flush(&e)),
                            // The flusher dropped the answer (it stopped):
                            // the commit may have happened.
                            Ok(Err(_)) => Err(error_codes::for_flush(&FlushError::OutcomeUnknown)),
                            Err(_) => Err(ResponseError::RequestTimedOut.code()),
                        };
                        (index, outcome)
                    }
                };
                let resp = PartitionProduceResponse::default().with_index(index);
                out.push(match result {
                    Ok(appended) => resp
                        .with_base_offset(appended.base_offset)
                        .with_log_start_offset(appended.log_start_offset)
                        .with_log_append_time_ms(log_append_time.unwrap_or(-1)),
                    Err(code) => {
                        if code == ResponseError::UnknownTopicOrPartition.code() {
                            // The commit found the topic gone: the id cached
                            // for its name is stale (deleted, perhaps
                            // recreated, through another agent).
                            ctx.topics.forget(name.as_str());
                        }
                        ctx.metrics
                            .request_errors
                            .with_label_values(&["Produce", &code.to_string()])
                            .inc();
                        resp.with_error_code(code).with_base_offset(-1)
                    }
                });
            }
            responses.push(
                TopicProduceResponse::default()
                    .with_name(name)
                    .with_partition_responses(out),
            );
        }
        (acks != 0).then(|| ProduceResponse::default().with_responses(responses))
    }
}

/// Reads every record of a batch whose header passed ([`check_records`]),
/// checking CreateTime timestamps against `timestamps`: inline when the
/// batch is not compressed (parsing is cheap), on a blocking thread when it
/// must be decompressed.
async fn read_records(
    records: &bytes::Bytes,
    header: &BatchHeader,
    timestamps: Option<std::ops::RangeInclusive<i64>>,
    require_keys: bool,
) -> Result<(), BatchError> {
    let checks = RecordChecks {
        timestamps,
        limit: MAX_PRODUCED_RECORDS_BYTES,
        require_keys,
    };
    if header.attributes & COMPRESSION_MASK == 0 {
        return Ok(check_records(records, header, &checks)?);
    }
    let (records, header) = (records.clone(), *header);
    tokio::task::spawn_blocking(move || check_records(&records, &header, &checks))
        .await
        .map_err(|_| BatchError::Invalid("record check did not finish"))??;
    Ok(())
}

async fn admit_partition(
    ctx: &AgentContext,
    topic: &Topic,
    p: PartitionProduceData,
    version: i16,
) -> Admitted {
    let mut records = p.records.unwrap_or_default();
    let limits = timestamp_limits(ctx, topic);
    let log_append_time = is_log_append_time(ctx, topic);
    let now_ms = wall_clock::now_ms();
    let checked = validate_produced(&records).and_then(|header| {
        // A LogAppendTime topic overwrites whatever the producer sent.
        if !log_append_time {
            check_timestamps(&header, now_ms, limits)?;
        }
        Ok(header)
    });
    let mut header = match checked {
        Ok(header) => header,
        Err(e) => {
            tracing::debug!(topic = %topic.name, partition = p.index, error = %e, "refused record batch");
            return Admitted::Invalid(p.index, e);
        }
    };
    if version < ZSTD_MIN_VERSION && header.attributes & COMPRESSION_MASK == ZSTD {
        return Admitted::Refused(p.index, ResponseError::UnsupportedCompressionType.code());
    }
    let max_bytes = max_message_bytes(ctx, topic);
    if i64::try_from(records.len()).unwrap_or(i64::MAX) > max_bytes {
        tracing::debug!(topic = %topic.name, partition = p.index, bytes = records.len(), max_bytes, "record batch too large");
        return Admitted::Refused(p.index, ResponseError::MessageTooLarge.code());
    }
    // Every record, once the batch's size and header passed (as Kafka's log
    // validator runs after the size check).
    let timestamps = (!log_append_time).then(|| limits.window(now_ms));
    // A compacted topic keeps the latest record of each key: Kafka refuses
    // records without one there (INVALID_RECORD).
    let require_keys = CleanupPolicy::of(&topic.config, &ctx.broker_configs).compact;
    if let Err(e) = read_records(&records, &header, timestamps, require_keys).await {
        tracing::debug!(topic = %topic.name, partition = p.index, error = %e, "refused records");
        return Admitted::Invalid(p.index, e);
    }
    let append_time = if log_append_time {
        let mut data = BytesMut::from(&records[..]);
        set_log_append_time(&mut data, &header, now_ms);
        records = data.freeze();
        header = match validate_produced(&records) {
            Ok(h) => h,
            Err(e) => return Admitted::Invalid(p.index, e),
        };
        Some(now_ms)
    } else {
        None
    };
    let len = records.len();
    let time = AppendTime {
        now_ms,
        after_max_ms: limits.after_max_ms,
    };
    match ctx
        .producer
        .append_at(topic.id, p.index, records, &header, time)
        .await
    {
        Ok(rx) => {
            ctx.metrics.produce_bytes.inc_by(len as u64);
            ctx.metrics
                .produce_records
                .inc_by(header.offset_count() as u64);
            Admitted::Waiting(p.index, rx, append_time)
        }
        Err(e) => Admitted::Refused(p.index, error_codes::for_flush(&e)),
    }
}

/// The largest batch `topic` takes (`max.message.bytes`, else the broker's
/// `message.max.bytes`); Kafka compares the whole batch, header included.
fn max_message_bytes(ctx: &AgentContext, topic: &Topic) -> i64 {
    configs::topic_value(names::MAX_MESSAGE_BYTES, &topic.config, &ctx.broker_configs)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(i64::MAX)
}

/// Whether `topic` stamps batches with the append time.
fn is_log_append_time(ctx: &AgentContext, topic: &Topic) -> bool {
    configs::topic_value(
        names::MESSAGE_TIMESTAMP_TYPE,
        &topic.config,
        &ctx.broker_configs,
    )
    .is_some_and(|v| v.trim() == "LogAppendTime")
}
