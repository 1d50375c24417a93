//! Routes a request to its handler. Handling has two phases: admission,
//! which runs in request order on the connection (so appends of pipelined
//! Produce requests keep their order), and completion, a future that runs
//! concurrently and yields the encoded response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;
use tracing::{Instrument, debug, info_span};

use super::authorize::{Access, Op, cluster};
use super::codec::{self, CodecError, RequestFrame, ResponseFrame};
use super::mute::Mute;
use super::session::Session;
use super::{
    acls, admin_topics, alter_configs, api_versions, client_quotas, create_partitions,
    delete_records, describe_cluster, describe_configs, describe_producers, describe_quorum,
    describe_topic_partitions, describe_transactions, elect_leaders, fetch, fetch_frame,
    find_coordinator, groups, incremental_alter_configs, init_producer_id, list_config_resources,
    list_offsets, log_dirs, metadata, offset_for_leader_epoch, partition_reassignments, produce,
    sasl, scram_credentials, throttle, transactions, versions, write_txn_markers,
};
use crate::context::AgentContext;
use crate::quotas::{MutationQuota, QuotaKind};

/// Who a request counts against for quotas: its user (the connection's
/// principal's name; `ANONYMOUS` before it authenticates, to which user
/// quotas and the default user's apply, as in Kafka) and its client id.
#[derive(Debug, Clone)]
struct QuotaClient {
    user: String,
    client_id: String,
}

impl QuotaClient {
    fn of(req: &RequestFrame, session: &Session) -> Self {
        QuotaClient {
            user: session.principal().name.clone(),
            client_id: req.header.client_id.as_deref().unwrap_or("").to_string(),
        }
    }

    /// Records `value` of `kind` and answers the throttle time in ms.
    fn record(&self, ctx: &AgentContext, kind: QuotaKind, value: f64) -> u64 {
        ctx.quotas.record(
            kind,
            &self.user,
            &self.client_id,
            value,
            std::time::Instant::now(),
        )
    }

    /// Records time spent handling a request, as Kafka's request quota
    /// counts thread time: percent of one thread for the elapsed time.
    fn record_time(&self, ctx: &AgentContext, elapsed: std::time::Duration) -> u64 {
        self.record(ctx, QuotaKind::Request, elapsed.as_secs_f64() * 100.0)
    }
}

/// The `controller_mutation_rate` quota of a CreateTopics, CreatePartitions
/// or DeleteTopics request: strict from the version given (the first whose
/// clients know THROTTLING_QUOTA_EXCEEDED), permissive before it.
fn mutation_quota<'a>(
    ctx: &'a AgentContext,
    quota: Option<&QuotaClient>,
    version: i16,
    strict_since: i16,
) -> MutationQuota<'a> {
    quota.map_or_else(MutationQuota::unbounded, |q| {
        ctx.quotas
            .mutation(&q.user, &q.client_id, version >= strict_since)
    })
}

/// The quota client of a request, when any quota is enforced (otherwise
/// nothing is recorded: one atomic load per kind).
fn quota_client(ctx: &AgentContext, req: &RequestFrame, session: &Session) -> Option<QuotaClient> {
    QuotaKind::ALL
        .iter()
        .any(|&kind| ctx.quotas.enforces(kind))
        .then(|| QuotaClient::of(req, session))
}

/// A response on its way: `None` when the request gets no answer
/// (Produce with acks=0).
pub type Completion =
    Pin<Box<dyn Future<Output = Result<Option<ResponseFrame>, CodecError>> + Send>>;

/// Admits one request frame of the connection whose context is `session`.
/// An error means the connection must close. A client over a quota gets
/// `throttle_time_ms` in every answer that has the field, and `mute` stops
/// its connection reading for that time.
pub async fn admit(
    ctx: &Arc<AgentContext>,
    frame: Bytes,
    session: &mut Session,
    mute: &Arc<Mute>,
) -> Result<Completion, CodecError> {
    let frame_bytes = frame.len();
    let req = codec::parse_request(frame)?;
    let quota = quota_client(ctx, &req, session);
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
    // The throttle of the API's own quota (partition mutations), beside
    // the request-time one.
    let mut api_throttle = 0u64;

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

    // What the requester may do: empty (no checks) without an authorizer.
    let access = Access::of(ctx, session);
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
                &access,
            )
            .instrument(span.clone())
            .await;
            ready(&req, version, resp)
        }
        ApiKey::Produce => {
            let body = codec::decode_body(&req)?;
            let pending = produce::admit(ctx, body, version, &access)
                .instrument(span.clone())
                .await;
            // Kafka records a Produce's request size against the byte
            // quota, and its handling time against the request quota, and
            // answers the larger throttle.
            let throttle = quota.as_ref().map_or(0, |q| {
                let bytes = q.record(ctx, QuotaKind::Produce, frame_bytes as f64);
                bytes.max(q.record_time(ctx, started.elapsed()))
            });
            mute.mute_for(throttle);
            let throttle_ms = i32::try_from(throttle).unwrap_or(i32::MAX);
            let (corr, metrics) = (req.header.correlation_id, ctx.metrics.clone());
            Box::pin(
                async move {
                    let resp = pending.await;
                    metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    resp.map(|mut r| {
                        r.throttle_time_ms = throttle_ms;
                        codec::encode_response(api, version, corr, &r).map(Into::into)
                    })
                    .transpose()
                }
                .instrument(span),
            )
        }
        ApiKey::Fetch => {
            let mut body: kafka_protocol::messages::FetchRequest = codec::decode_body(&req)?;
            if let Some(q) = &quota {
                limit_fetch_to_quota(ctx, q, &mut body);
            }
            let (ctx, corr, mute) = (ctx.clone(), req.header.correlation_id, mute.clone());
            let quota = quota.clone();
            let access = access.clone();
            Box::pin(
                async move {
                    let mut resp = fetch::handle(&ctx, body, version, &access).await;
                    ctx.metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    let encoding = std::time::Instant::now();
                    let frame = fetch_frame::encode(&resp, version, corr)?;
                    let Some(q) = quota else {
                        return Ok(Some(frame));
                    };
                    // Kafka records a Fetch's response size against the
                    // byte quota. The time counted against the request
                    // quota is the encoding's (the wait of a long poll
                    // uses no thread).
                    let bytes = q.record(&ctx, QuotaKind::Fetch, frame.remaining() as f64);
                    let throttle = bytes.max(q.record_time(&ctx, encoding.elapsed()));
                    if throttle == 0 {
                        return Ok(Some(frame));
                    }
                    mute.mute_for(throttle);
                    resp.response.throttle_time_ms = i32::try_from(throttle).unwrap_or(i32::MAX);
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
                list_offsets::handle(ctx, body, version, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::CreateTopics => {
            let body = codec::decode_body(&req)?;
            let mut mutations = mutation_quota(ctx, quota.as_ref(), version, 6);
            let resp = admin_topics::create(ctx, body, &access, &mut mutations)
                .instrument(span.clone())
                .await;
            api_throttle = mutations.throttle_ms();
            ready(&req, version, resp)
        }
        ApiKey::DeleteTopics => {
            let body = codec::decode_body(&req)?;
            let mut mutations = mutation_quota(ctx, quota.as_ref(), version, 5);
            let resp = admin_topics::delete(ctx, body, &access, &mut mutations)
                .instrument(span.clone())
                .await;
            api_throttle = mutations.throttle_ms();
            ready(&req, version, resp)
        }
        ApiKey::CreatePartitions => {
            let body = codec::decode_body(&req)?;
            let mut mutations = mutation_quota(ctx, quota.as_ref(), version, 3);
            let resp = create_partitions::handle(ctx, body, &access, &mut mutations)
                .instrument(span.clone())
                .await;
            api_throttle = mutations.throttle_ms();
            ready(&req, version, resp)
        }
        ApiKey::DeleteRecords => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                delete_records::handle(ctx, body, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeCluster => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_cluster::handle(ctx, body, session.listener, &access),
            )
        }
        ApiKey::DescribeQuorum => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Describe) {
                ready(&req, version, cluster::describe_quorum(&body, version))
            } else {
                ready(&req, version, describe_quorum::handle(ctx, body))
            }
        }
        ApiKey::OffsetForLeaderEpoch => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                offset_for_leader_epoch::handle(ctx, body, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::ElectLeaders => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Alter) {
                ready(&req, version, cluster::elect_leaders(&body, version))
            } else {
                ready(
                    &req,
                    version,
                    elect_leaders::handle(ctx, body)
                        .instrument(span.clone())
                        .await,
                )
            }
        }
        ApiKey::ListPartitionReassignments => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Describe) {
                ready(&req, version, cluster::list_partition_reassignments())
            } else {
                ready(&req, version, partition_reassignments::list(body))
            }
        }
        ApiKey::AlterPartitionReassignments => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Alter) {
                ready(&req, version, cluster::alter_partition_reassignments(&body))
            } else {
                ready(
                    &req,
                    version,
                    partition_reassignments::alter(ctx, body)
                        .instrument(span.clone())
                        .await,
                )
            }
        }
        ApiKey::DescribeTopicPartitions => {
            let body = codec::decode_body(&req)?;
            let resp = describe_topic_partitions::handle(
                ctx,
                body,
                req.header.client_id.as_deref(),
                &access,
            )
            .instrument(span.clone())
            .await;
            ready(&req, version, resp)
        }
        ApiKey::DescribeProducers => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_producers::handle(ctx, body, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeLogDirs => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Describe) {
                ready(&req, version, cluster::describe_log_dirs(version))
            } else {
                ready(
                    &req,
                    version,
                    log_dirs::describe(ctx, body).instrument(span.clone()).await,
                )
            }
        }
        ApiKey::AlterReplicaLogDirs => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Alter) {
                ready(&req, version, cluster::alter_replica_log_dirs(&body))
            } else {
                ready(
                    &req,
                    version,
                    log_dirs::alter(ctx, body).instrument(span.clone()).await,
                )
            }
        }
        ApiKey::DescribeConfigs => {
            let body = codec::decode_body(&req)?;
            let resp = describe_configs::handle(ctx, body, version, &access)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::AlterConfigs => {
            let body = codec::decode_body(&req)?;
            let resp = alter_configs::handle(ctx, body, &access)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::IncrementalAlterConfigs => {
            let body = codec::decode_body(&req)?;
            let resp = incremental_alter_configs::handle(ctx, body, &access)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::ListConfigResources => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::DescribeConfigs) {
                ready(&req, version, cluster::list_config_resources())
            } else {
                let resp = list_config_resources::handle(ctx, body, version)
                    .instrument(span.clone())
                    .await;
                ready(&req, version, resp)
            }
        }
        ApiKey::SaslHandshake => {
            let body = codec::decode_body(&req)?;
            ready(&req, version, sasl::handshake(ctx, session, body, version))
        }
        ApiKey::SaslAuthenticate => {
            let body = codec::decode_body(&req)?;
            let resp = sasl::authenticate(ctx, session, body)
                .instrument(span.clone())
                .await;
            ready(&req, version, resp)
        }
        ApiKey::DescribeClientQuotas => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::DescribeConfigs) {
                ready(&req, version, cluster::describe_client_quotas())
            } else {
                let resp = client_quotas::describe(ctx, body)
                    .instrument(span.clone())
                    .await;
                ready(&req, version, resp)
            }
        }
        ApiKey::DescribeUserScramCredentials => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Describe) {
                ready(&req, version, cluster::describe_user_scram_credentials())
            } else {
                let resp = scram_credentials::describe(ctx, body)
                    .instrument(span.clone())
                    .await;
                ready(&req, version, resp)
            }
        }
        ApiKey::AlterUserScramCredentials => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::Alter) {
                ready(&req, version, cluster::alter_user_scram_credentials(&body))
            } else {
                let resp = scram_credentials::alter(ctx, body)
                    .instrument(span.clone())
                    .await;
                ready(&req, version, resp)
            }
        }
        ApiKey::CreateAcls => {
            let body = codec::decode_body(&req)?;
            let resp = acls::create(ctx, session, body)
                .instrument(span.clone())
                .await?;
            ready(&req, version, resp)
        }
        ApiKey::DescribeAcls => {
            let body = codec::decode_body(&req)?;
            let resp = acls::describe(ctx, session, body)
                .instrument(span.clone())
                .await?;
            ready(&req, version, resp)
        }
        ApiKey::DeleteAcls => {
            let body = codec::decode_body(&req)?;
            let resp = acls::delete(ctx, session, body)
                .instrument(span.clone())
                .await?;
            ready(&req, version, resp)
        }
        ApiKey::AlterClientQuotas => {
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::AlterConfigs) {
                ready(&req, version, cluster::alter_client_quotas(&body))
            } else {
                let resp = client_quotas::alter(ctx, body)
                    .instrument(span.clone())
                    .await;
                ready(&req, version, resp)
            }
        }
        ApiKey::FindCoordinator => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                find_coordinator::handle(ctx, body, version, session.listener, &access),
            )
        }
        ApiKey::InitProducerId => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                init_producer_id::handle(ctx, body, version, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::AddPartitionsToTxn => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                transactions::add_partitions(ctx, body, version, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::AddOffsetsToTxn => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                transactions::add_offsets(ctx, body, version, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::TxnOffsetCommit => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                transactions::commit_offsets(ctx, body, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::DescribeTransactions => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_transactions::describe(ctx, body, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::ListTransactions => {
            let body = codec::decode_body(&req)?;
            ready(
                &req,
                version,
                describe_transactions::list(ctx, body, &access)
                    .instrument(span.clone())
                    .await,
            )
        }
        ApiKey::EndTxn => {
            // Waits for the markers' commit: answered off the connection's
            // admission order, like Produce.
            let body = codec::decode_body(&req)?;
            let (ctx, corr) = (ctx.clone(), req.header.correlation_id);
            let access = access.clone();
            Box::pin(
                async move {
                    let resp = transactions::end(&ctx, body, version, &access).await;
                    ctx.metrics
                        .request_seconds
                        .with_label_values(&[name])
                        .observe(started.elapsed().as_secs_f64());
                    codec::encode_response(api, version, corr, &resp).map(|f| Some(f.into()))
                }
                .instrument(span),
            )
        }
        ApiKey::WriteTxnMarkers => {
            // Waits for the markers' commit, as EndTxn does.
            let body = codec::decode_body(&req)?;
            if !access.cluster(Op::ClusterAction) {
                ready(&req, version, cluster::write_txn_markers(&body))
            } else {
                let (ctx, corr) = (ctx.clone(), req.header.correlation_id);
                Box::pin(
                    async move {
                        let resp = write_txn_markers::write(&ctx, body).await;
                        ctx.metrics
                            .request_seconds
                            .with_label_values(&[name])
                            .observe(started.elapsed().as_secs_f64());
                        codec::encode_response(api, version, corr, &resp).map(|f| Some(f.into()))
                    }
                    .instrument(span),
                )
            }
        }
        // Group APIs are queued to their group and answered later.
        api if groups::serves(api) => {
            let answer = groups::admit(ctx, &req, session, &access)
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
    if !matches!(
        api,
        ApiKey::Produce | ApiKey::Fetch | ApiKey::EndTxn | ApiKey::WriteTxnMarkers
    ) && !groups::serves(api)
    {
        ctx.metrics
            .request_seconds
            .with_label_values(&[name])
            .observe(started.elapsed().as_secs_f64());
    }
    // Other APIs but the SASL exchange count their admission time against
    // the request quota; over it (or over the API's own quota), the
    // connection is muted and the answer carries the larger throttle time
    // (Fetch sets its own when it completes).
    if api != ApiKey::Produce
        && !throttle::exempt(api)
        && let Some(q) = &quota
    {
        let throttle_ms = q.record_time(ctx, started.elapsed()).max(api_throttle);
        mute.mute_for(throttle_ms);
        if throttle_ms > 0 && api != ApiKey::Fetch {
            return Ok(throttle::answer_with(completion, api, version, throttle_ms));
        }
    }
    Ok(completion)
}

/// Caps a Fetch to what the client's byte quota allows over the sampled
/// span, as Kafka does, so one answer cannot overshoot the quota by more.
fn limit_fetch_to_quota(
    ctx: &AgentContext,
    q: &QuotaClient,
    body: &mut kafka_protocol::messages::FetchRequest,
) {
    let Some(most) = ctx
        .quotas
        .max_in_window(QuotaKind::Fetch, &q.user, &q.client_id)
    else {
        return;
    };
    let most = most.clamp(1.0, i32::MAX as f64) as i32;
    body.max_bytes = body.max_bytes.min(most);
    body.min_bytes = body.min_bytes.min(body.max_bytes);
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
        ApiKey::WriteTxnMarkers => "WriteTxnMarkers",
        ApiKey::DescribeTransactions => "DescribeTransactions",
        ApiKey::ListTransactions => "ListTransactions",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        ApiKey::DescribeUserScramCredentials => "DescribeUserScramCredentials",
        ApiKey::AlterUserScramCredentials => "AlterUserScramCredentials",
        ApiKey::DescribeClientQuotas => "DescribeClientQuotas",
        ApiKey::AlterClientQuotas => "AlterClientQuotas",
        ApiKey::CreateAcls => "CreateAcls",
        ApiKey::DescribeAcls => "DescribeAcls",
        ApiKey::DeleteAcls => "DeleteAcls",
        _ => "Other",
    }
}
