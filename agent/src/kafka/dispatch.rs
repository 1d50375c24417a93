//! Routes a request to its handler. Handling has two phases: admission,
//! which runs in request order on the connection (so appends of pipelined
//! Produce requests keep their order), and completion, a future that runs
//! concurrently and yields the encoded response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;
use tracing::{Instrument, debug, info_span};

use super::codec::{self, CodecError, RequestFrame, ResponseFrame};
use super::session::Session;
use super::{
    admin_topics, alter_configs, api_versions, create_partitions, delete_records, describe_cluster,
    describe_configs, describe_producers, describe_quorum, describe_topic_partitions,
    describe_transactions, elect_leaders, fetch, fetch_frame, find_coordinator, groups,
    incremental_alter_configs, init_producer_id, list_config_resources, list_offsets, log_dirs,
    metadata, offset_for_leader_epoch, partition_reassignments, produce, sasl, scram_credentials, transactions,
    versions,
};
use crate::context::AgentContext;

/// A response on its way: `None` when the request gets no answer
/// (Produce with acks=0).
pub type Completion =
    Pin<Box<dyn Future<Output = Result<Option<ResponseFrame>, CodecError>> + Send>>;

/// Admits one request frame of the connection whose context is `session`.
/// An error means the connection must close.
pub async fn admit(
    ctx: &Arc<AgentContext>,
    frame: Bytes,
    session: &mut Session,
) -> Result<Completion, CodecError> {
    let req = codec::parse_request(frame)?;
    let api = req.api_key;
    let version = req.version;
    let name = api_name(api);
    let span = info_span!(
        "request",
        api = name,
        version,
        correlation_id = req.header.correlation_id,
        client_id = req.header.client_id.as_deref().unwrap_or("")
    );
    ctx.metrics.requests.with_label_values(&[name]).inc();
    let started = Instant::now();

    if let Some(reason) = sasl::refuse(session, api) {
        debug!(parent: &span, reason, "closing");
        return Err(CodecError::Malformed {
            what: "authentication",
            reason,
        });
    }

    if !versions::is_supported(api, version) {
        if api == ApiKey::ApiVersions {
            // Answered in v0 so any client can read it and pick a version.
            let body = api_versions::response(true);
            return Ok(ready(&req, 0, body));
        }
        debug!(parent: &span, api = name, version, "unsupported api version; closing");
        return Err(CodecError::Malformed {
            what: "api version",
            reason: format!("{name} v{version} is not supported"),
        });
    }

    let completion: Completion = match api {
        ApiKey::ApiVersions => ready(&req, version, api_versions::response(false)),
        ApiKey::Metadata => {
            let body = codec::decode_body(&req)?;
            let resp = metadata::handle(
                ctx,
                body,
                version,
                req.header.client_id.as_deref(),
                session.listener,
            )
            .instrument(span.clone())
            .await;
            ready(&req, version, resp)
        }
        ApiKey::Produce => {
            let body = codec::decode_body(&req)?;
            let pending = produce::admit(ctx, body, version)
                .instrument(span.clone())
                .await;
            let (corr, metrics) = (req.header.correlation_id, ctx.metrics.clone());
            Box::pin(
                async move {
                    let resp = pending.await;
                    metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    resp.map(|r| codec::encode_response(api, version, corr, &r).map(Into::into))
                        .transpose()
                }
                .instrument(span),
            )
        }
        ApiKey::Fetch => {
            let body = codec::decode_body(&req)?;
            let (ctx, corr) = (ctx.clone(), req.header.correlation_id);
            Box::pin(
                async move {
                    let resp = fetch::handle(&ctx, body, version).await;
                    ctx.metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    fetch_frame::encode(&resp, version, corr).map(Some)
                }
                .instrument(span),
            )
        }
        ApiKey::ListOffsets => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                list_offsets::handle(ctx, body, version)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::CreateTopics => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                admin_topics::create(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DeleteTopics => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                admin_topics::delete(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::CreatePartitions => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                create_partitions::handle(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DeleteRecords => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                delete_records::handle(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeCluster => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_cluster::handle(ctx, body, session.listener),
            )
        }
        ApiKey::DescribeQuorum => {
            let body = codec::decode_body(&req)?;
            ready(&req, version, describe_quorum::handle(ctx, body))
        }
        ApiKey::OffsetForLeaderEpoch => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                offset_for_leader_epoch::handle(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::ElectLeaders => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                elect_leaders::handle(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::ListPartitionReassignments => {
            let body = codec::decode_body(&req)?;
            ready(&req, version, partition_reassignments::list(body))
        }
        ApiKey::AlterPartitionReassignments => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                partition_reassignments::alter(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeTopicPartitions => {
            let body = codec::decode_body(&req)?;
            let resp =
                describe_topic_partitions::handle(ctx, body, req.header.client_id.as_deref())
                    .instrument(span.clone())
                    .await;
            ready(&req, version, resp)
        }
        ApiKey::DescribeProducers => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_producers::handle(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeLogDirs => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                log_dirs::describe(ctx, body).instrument(span.clone()).await,
            )
        }
        ApiKey::AlterReplicaLogDirs => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                log_dirs::alter(ctx, body).instrument(span.clone()).await,
            )
        }
        ApiKey::DescribeConfigs => {
            let body = codec::decode_body(&req)?;
            let resp = describe_configs::handle(ctx, body, version)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::AlterConfigs => {
            let body = codec::decode_body(&req)?;
            let resp = alter_configs::handle(ctx, body)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::IncrementalAlterConfigs => {
            let body = codec::decode_body(&req)?;
            let resp = incremental_alter_configs::handle(ctx, body)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::ListConfigResources => {
            let body = codec::decode_body(&req)?;
            let resp = list_config_resources::handle(ctx, body, version)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::SaslHandshake => {
            let body = codec::decode_body(&req)?;
            ready(&req, version, sasl::handshake(ctx, session, body))
        }
        ApiKey::SaslAuthenticate => {
            let body = codec::decode_body(&req)?;
            let resp = sasl::authenticate(ctx, session, body)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::DescribeUserScramCredentials => {
            let body = codec::decode_body(&req)?;
            let resp = scram_credentials::describe(ctx, body)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::AlterUserScramCredentials => {
            let body = codec::decode_body(&req)?;
            let resp = scram_credentials::alter(ctx, body)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::FindCoordinator => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                find_coordinator::handle(ctx, body, version, session.listener),
            )
        }
        ApiKey::InitProducerId => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                init_producer_id::handle(ctx, body, version)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::AddPartitionsToTxn => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                transactions::add_partitions(ctx, body, version)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::AddOffsetsToTxn => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                transactions::add_offsets(ctx, body, version)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::TxnOffsetCommit => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                transactions::commit_offsets(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeTransactions => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_transactions::describe(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::ListTransactions => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_transactions::list(ctx, body)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::EndTxn => {
            // Waits for the markers' commit: answered off the connection's
            // admission order, like Produce.
            let body = codec::decode_body(&req)?;
            let (ctx, corr) = (ctx.clone(), req.header.correlation_id);
            Box::pin(
                async move {
                    let resp = transactions::end(&ctx, body, version).await;
                    ctx.metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    codec::encode_response(api, version, corr, &resp).map(|f| Some(f.into()))
                }
                .instrument(span),
            )
        }
        // Group APIs are queued to their group and answered later.
        api if groups::serves(api) => {
            let answer = groups::admit(ctx, &req, session)
                .instrument(span.clone())
                .await?;
            let metrics = ctx.metrics.clone();
            Box::pin(
                async move {
                    let encoded = answer.await;
                    metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    encoded.map(|frame| Some(frame.into()))
                }
                .instrument(span),
            )
        }
        // `is_supported` only lets the APIs above through.
        other => {
            return Err(CodecError::Malformed {
                what: "api",
                reason: format!("{other:?} is not served"),
            });
        }
    };
    if !matches!(api, ApiKey::Produce | ApiKey::Fetch | ApiKey::EndTxn) && !groups::serves(api) {
        ctx.metrics
            .request_seconds
            .with_label_values(&[name])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(completion)
}

/// A completion that is already done.
fn ready<T: Encodable>(req: &RequestFrame, version: i16, body: T) -> Completion {
    let encoded = codec::encode_response(req.api_key, version, req.header.correlation_id, &body);
    Box::pin(std::future::ready(encoded.map(|frame| Some(frame.into()))))
}

/// Stable metric label of an API.
fn api_name(api: ApiKey) -> &'static str {
    match api {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::Metadata => "Metadata",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        ApiKey::DeleteTopics => "DeleteTopics",
        ApiKey::InitProducerId => "InitProducerId",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::OffsetDelete => "OffsetDelete",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::DeleteGroups => "DeleteGroups",
        ApiKey::CreatePartitions => "CreatePartitions",
        ApiKey::DeleteRecords => "DeleteRecords",
        ApiKey::DescribeCluster => "DescribeCluster",
        ApiKey::DescribeQuorum => "DescribeQuorum",
        ApiKey::OffsetForLeaderEpoch => "OffsetForLeaderEpoch",
        ApiKey::ElectLeaders => "ElectLeaders",
        ApiKey::DescribeProducers => "DescribeProducers",
        ApiKey::DescribeLogDirs => "DescribeLogDirs",
        ApiKey::AlterReplicaLogDirs => "AlterReplicaLogDirs",
        ApiKey::DescribeTopicPartitions => "DescribeTopicPartitions",
        ApiKey::ListPartitionReassignments => "ListPartitionReassignments",
        ApiKey::AlterPartitionReassignments => "AlterPartitionReassignments",
        ApiKey::DescribeConfigs => "DescribeConfigs",
        ApiKey::AlterConfigs => "AlterConfigs",
        ApiKey::IncrementalAlterConfigs => "IncrementalAlterConfigs",
        ApiKey::ListConfigResources => "ListConfigResources",
        ApiKey::AddPartitionsToTxn => "AddPartitionsToTxn",
        ApiKey::AddOffsetsToTxn => "AddOffsetsToTxn",
        ApiKey::TxnOffsetCommit => "TxnOffsetCommit",
        ApiKey::EndTxn => "EndTxn",
        ApiKey::DescribeTransactions => "DescribeTransactions",
        ApiKey::ListTransactions => "ListTransactions",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        ApiKey::DescribeUserScramCredentials => "DescribeUserScramCredentials",
        ApiKey::AlterUserScramCredentials => "AlterUserScramCredentials",
        _ => "Other",
    }
}
