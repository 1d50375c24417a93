//! Produce: validate each partition's batches, append them to the pending
//! segment in request order, and answer once their flush is committed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use tokio::sync::oneshot;

use super::error_codes;
use crate::context::AgentContext;
use crate::produce::{AppendOutcome, FlushError};
use crate::segment::batch::validate_produced;

/// Shortest wait for a flush, whatever `timeout_ms` the client sent: a flush
/// takes at least the flush interval.
const MIN_PRODUCE_WAIT: Duration = Duration::from_secs(1);
/// zstd batches need Produce v7 or later (KIP-110).
const ZSTD_MIN_VERSION: i16 = 7;
const COMPRESSION_MASK: i16 = 0x07;
const ZSTD: i16 = 4;

/// One partition's fate after admission.
enum Admitted {
    Waiting(i32, oneshot::Receiver<AppendOutcome>),
    Refused(i32, i16),
}

/// Admits a Produce request: everything that must happen in request order
/// (validation and the append) happens before this returns. The returned
/// future waits for the commit and yields the response, or `None` for
/// `acks=0`, which Kafka never answers.
pub async fn admit(
    ctx: &Arc<AgentContext>,
    req: ProduceRequest,
    version: i16,
) -> impl Future<Output = Option<ProduceResponse>> + Send + 'static {
    ctx.metrics.produce_requests.inc();
    let mut topics = Vec::with_capacity(req.topic_data.len());
    for topic_data in req.topic_data {
        let name = topic_data.name;
        let topic = ctx.topics.get_or_create(name.as_str(), true).await;
        let mut partitions = Vec::with_capacity(topic_data.partition_data.len());
        for p in topic_data.partition_data {
            let admitted = match &topic {
                Ok(Some(t)) if (0..t.partitions).contains(&p.index) => {
                    admit_partition(ctx, t.id, p, version).await
                }
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
                let (index, result) = match admitted {
                    Admitted::Refused(index, code) => (index, Err(code)),
                    Admitted::Waiting(index, rx) => {
                        let outcome = match tokio::time::timeout(wait, rx).await {
                            Ok(Ok(Ok(base))) => Ok(base),
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
                    Ok(base) => resp.with_base_offset(base),
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

async fn admit_partition(
    ctx: &AgentContext,
    topic_id: uuid::Uuid,
    p: PartitionProduceData,
    version: i16,
) -> Admitted {
    let records = p.records.unwrap_or_default();
    let header = match validate_produced(&records) {
        Ok(header) => header,
        Err(e) => {
            tracing::debug!(partition = p.index, error = %e, "refused record batch");
            return Admitted::Refused(p.index, error_codes::for_batch(&e));
        }
    };
    if version < ZSTD_MIN_VERSION && header.attributes & COMPRESSION_MASK == ZSTD {
        return Admitted::Refused(p.index, ResponseError::UnsupportedCompressionType.code());
    }
    let len = records.len();
    match ctx
        .producer
        .append(topic_id, p.index, records, &header)
        .await
    {
        Ok(rx) => {
            ctx.metrics.produce_bytes.inc_by(len as u64);
            ctx.metrics
                .produce_records
                .inc_by(header.offset_count() as u64);
            Admitted::Waiting(p.index, rx)
        }
        Err(e) => Admitted::Refused(p.index, error_codes::for_flush(&e)),
    }
}
