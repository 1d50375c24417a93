//! The consumer-group APIs: JoinGroup, SyncGroup, Heartbeat and LeaveGroup
//! here, offsets in `offsets`, listing and deleting in `group_admin`.
//!
//! Each is admitted in connection order (the request is queued to its
//! group's task) and answered when the task is done with it, which for a
//! JoinGroup or SyncGroup may be a whole rebalance later.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{
    ApiKey, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupRequest, LeaveGroupResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Encodable, StrBytes};

use super::authorize::{Access, GROUP_DENIED, Op};
use super::codec::{self, CodecError, RequestFrame};
use super::error_codes::for_group;
use super::session::Session;
use super::{group_admin, offsets};
use crate::context::AgentContext;
use crate::groups::{
    GroupError, HeartbeatArgs, JoinArgs, JoinResult, LeavingMember, Pending, Protocol, SyncArgs,
    SyncResult,
};

/// An encoded answer on its way.
pub type Answer = Pin<Box<dyn Future<Output = Result<Bytes, CodecError>> + Send>>;

/// Who sent a request, as group members are described.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client.id`.
    pub id: String,
    /// The peer address, as Kafka shows it (`/127.0.0.1`).
    pub host: String,
}

/// Whether `api` is a group API served here.
pub fn serves(api: ApiKey) -> bool {
    matches!(
        api,
        ApiKey::JoinGroup
            | ApiKey::SyncGroup
            | ApiKey::Heartbeat
            | ApiKey::LeaveGroup
            | ApiKey::OffsetCommit
            | ApiKey::OffsetFetch
            | ApiKey::OffsetDelete
            | ApiKey::ListGroups
            | ApiKey::DescribeGroups
            | ApiKey::DeleteGroups
    )
}

/// Admits a group request: decodes it and queues it to its group. The
/// returned future yields the encoded answer. A request the requester is
/// not authorized for is answered at once, as Kafka answers it: the
/// membership APIs need READ on the group (`refused`), the others check in
/// their handlers.
pub async fn admit(
    ctx: &Arc<AgentContext>,
    req: &RequestFrame,
    session: &Session,
    access: &Access,
) -> Result<Answer, CodecError> {
    let (api, v, corr) = (req.api_key, req.version, req.header.correlation_id);
    let client = Client {
        id: req.header.client_id.as_deref().unwrap_or("").to_string(),
        host: session.host(),
    };
    let readable = |group: &str| access.group(Op::Read, group);
    Ok(match api {
        ApiKey::JoinGroup => {
            let body: JoinGroupRequest = codec::decode_body(req)?;
            if !readable(&body.group_id) {
                let refused =
                    JoinResult::error(body.member_id.as_str(), GroupError::InvalidGroupId);
                let resp = join_response(refused, v).with_error_code(GROUP_DENIED);
                return Ok(answer(api, v, corr, std::future::ready(resp)));
            }
            answer(api, v, corr, join(ctx, body, v, &client).await)
        }
        ApiKey::SyncGroup => {
            let body: SyncGroupRequest = codec::decode_body(req)?;
            if !readable(&body.group_id) {
                let resp = SyncGroupResponse::default().with_error_code(GROUP_DENIED);
                return Ok(answer(api, v, corr, std::future::ready(resp)));
            }
            answer(api, v, corr, sync(ctx, body).await)
        }
        ApiKey::Heartbeat => {
            let body: HeartbeatRequest = codec::decode_body(req)?;
            if !readable(&body.group_id) {
                let resp = HeartbeatResponse::default().with_error_code(GROUP_DENIED);
                return Ok(answer(api, v, corr, std::future::ready(resp)));
            }
            answer(api, v, corr, heartbeat(ctx, body).await)
        }
        ApiKey::LeaveGroup => {
            let body: LeaveGroupRequest = codec::decode_body(req)?;
            if !readable(&body.group_id) {
                let resp = LeaveGroupResponse::default().with_error_code(GROUP_DENIED);
                return Ok(answer(api, v, corr, std::future::ready(resp)));
            }
            answer(api, v, corr, leave(ctx, body, v).await)
        }
        ApiKey::OffsetCommit => answer(
            api,
            v,
            corr,
            offsets::commit(ctx, codec::decode_body(req)?, access).await,
        ),
        ApiKey::OffsetFetch => answer(
            api,
            v,
            corr,
            offsets::fetch(ctx, codec::decode_body(req)?, v, access).await,
        ),
        ApiKey::OffsetDelete => answer(
            api,
            v,
            corr,
            offsets::delete(ctx, codec::decode_body(req)?, access).await,
        ),
        ApiKey::ListGroups => answer(
            api,
            v,
            corr,
            group_admin::list(ctx, codec::decode_body(req)?, v, access).await,
        ),
        ApiKey::DescribeGroups => answer(
            api,
            v,
            corr,
            group_admin::describe(ctx, codec::decode_body(req)?, v, access).await,
        ),
        ApiKey::DeleteGroups => answer(
            api,
            v,
            corr,
            group_admin::delete(ctx, codec::decode_body(req)?, access).await,
        ),
        other => {
            return Err(CodecError::Malformed {
                what: "api",
                reason: format!("{other:?} is not a group api"),
            });
        }
    })
}

fn answer<T: Encodable + Send + 'static>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    response: impl Future<Output = T> + Send + 'static,
) -> Answer {
    Box::pin(async move {
        let body = response.await;
        codec::encode_response(api, version, correlation_id, &body)
    })
}

fn text(s: &StrBytes) -> String {
    s.as_str().to_string()
}

fn wire(s: String) -> StrBytes {
    StrBytes::from_string(s)
}

/// JoinGroup.
async fn join(
    ctx: &AgentContext,
    req: JoinGroupRequest,
    version: i16,
    client: &Client,
) -> impl Future<Output = JoinGroupResponse> + Send + 'static {
    let pending = if req.group_id.is_empty() {
        Pending::ready(JoinResult::error(
            req.member_id.as_str(),
            GroupError::InvalidGroupId,
        ))
    } else {
        let args = JoinArgs {
            member_id: text(&req.member_id),
            group_instance_id: req.group_instance_id.as_ref().map(text),
            client_id: client.id.clone(),
            client_host: client.host.clone(),
            session_timeout_ms: req.session_timeout_ms,
            // v0 has no rebalance timeout: the session timeout serves.
            rebalance_timeout_ms: if version == 0 {
                req.session_timeout_ms
            } else {
                req.rebalance_timeout_ms
            },
            protocol_type: text(&req.protocol_type),
            protocols: req
                .protocols
                .into_iter()
                .map(|p| Protocol {
                    name: text(&p.name),
                    metadata: p.metadata,
                })
                .collect(),
            require_known_member_id: version >= 4,
            supports_skip_assignment: version >= 9,
        };
        ctx.groups.join(&req.group_id, args).await
    };
    async move { join_response(pending.wait().await, version) }
}

fn join_response(r: JoinResult, version: i16) -> JoinGroupResponse {
    // Before v7 the protocol name is not nullable: Kafka sends "".
    let protocol_name = match r.protocol_name {
        Some(p) => Some(wire(p)),
        None if version < 7 => Some(StrBytes::default()),
        None => None,
    };
    let members = r
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(wire(m.member_id))
                .with_group_instance_id(m.group_instance_id.filter(|_| version >= 5).map(wire))
                .with_metadata(m.metadata)
        })
        .collect();
    JoinGroupResponse::default()
        .with_error_code(r.error.map_or(0, for_group))
        .with_generation_id(r.generation)
        .with_protocol_type(r.protocol_type.map(wire))
        .with_protocol_name(protocol_name)
        .with_leader(wire(r.leader))
        .with_skip_assignment(r.skip_assignment && version >= 9)
        .with_member_id(wire(r.member_id))
        .with_members(members)
}

/// SyncGroup.
async fn sync(
    ctx: &AgentContext,
    req: SyncGroupRequest,
) -> impl Future<Output = SyncGroupResponse> + Send + 'static {
    let pending = if req.group_id.is_empty() {
        Pending::ready(SyncResult::error(GroupError::InvalidGroupId))
    } else {
        let args = SyncArgs {
            member_id: text(&req.member_id),
            group_instance_id: req.group_instance_id.as_ref().map(text),
            generation: req.generation_id,
            protocol_type: req.protocol_type.as_ref().map(text),
            protocol_name: req.protocol_name.as_ref().map(text),
            assignments: req
                .assignments
                .into_iter()
                .map(|a| (text(&a.member_id), a.assignment))
                .collect(),
        };
        ctx.groups.sync(&req.group_id, args).await
    };
    async move {
        let r = pending.wait().await;
        // A group being loaded has lost its rebalance: rejoin (Kafka does
        // not send COORDINATOR_LOAD_IN_PROGRESS here; old clients do not
        // expect it).
        let error = r.error.map(|e| match e {
            GroupError::LoadInProgress => GroupError::RebalanceInProgress,
            e => e,
        });
        SyncGroupResponse::default()
            .with_error_code(error.map_or(0, for_group))
            .with_protocol_type(r.protocol_type.map(wire))
            .with_protocol_name(r.protocol_name.map(wire))
            .with_assignment(r.assignment)
    }
}

/// Heartbeat.
async fn heartbeat(
    ctx: &AgentContext,
    req: HeartbeatRequest,
) -> impl Future<Output = HeartbeatResponse> + Send + 'static {
    let pending = if req.group_id.is_empty() {
        Pending::ready(Err(GroupError::InvalidGroupId))
    } else {
        let args = HeartbeatArgs {
            member_id: text(&req.member_id),
            group_instance_id: req.group_instance_id.as_ref().map(text),
            generation: req.generation_id,
        };
        ctx.groups.heartbeat(&req.group_id, args).await
    };
    async move {
        let code = match pending.wait().await {
            // As Kafka: a heartbeat during loading is answered blindly.
            Ok(()) | Err(GroupError::LoadInProgress) => 0,
            Err(e) => for_group(e),
        };
        HeartbeatResponse::default().with_error_code(code)
    }
}

/// LeaveGroup: one member before v3, a batch from v3.
async fn leave(
    ctx: &AgentContext,
    req: LeaveGroupRequest,
    version: i16,
) -> impl Future<Output = LeaveGroupResponse> + Send + 'static {
    let leaving: Vec<LeavingMember> = if version >= 3 {
        req.members
            .iter()
            .map(|m| LeavingMember {
                member_id: text(&m.member_id),
                group_instance_id: m.group_instance_id.as_ref().map(text),
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: text(&req.member_id),
            group_instance_id: None,
        }]
    };
    let pending = if req.group_id.is_empty() {
        Pending::ready(Err(GroupError::InvalidGroupId))
    } else {
        ctx.groups.leave(&req.group_id, leaving.clone()).await
    };
    async move {
        let resp = LeaveGroupResponse::default();
        match pending.wait().await {
            Err(e) => resp.with_error_code(for_group(e)),
            Ok(results) if version < 3 => {
                resp.with_error_code(results.first().and_then(|r| r.err()).map_or(0, for_group))
            }
            Ok(results) => resp.with_members(
                leaving
                    .into_iter()
                    .zip(results)
                    .map(|(m, r)| {
                        MemberResponse::default()
                            .with_member_id(wire(m.member_id))
                            .with_group_instance_id(m.group_instance_id.map(wire))
                            .with_error_code(r.err().map_or(0, for_group))
                    })
                    .collect(),
            ),
        }
    }
}
