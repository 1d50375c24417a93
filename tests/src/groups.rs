//! Hand-made consumer-group requests through the raw client: one member of a group
//! speaking JoinGroup, SyncGroup, Heartbeat, OffsetCommit and OffsetFetch itself.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    DeleteGroupsRequest, FindCoordinatorRequest, GroupId, HeartbeatRequest, JoinGroupRequest,
    JoinGroupResponse, OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest,
    SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;

use crate::raw::{RawClient, topic_name};

/// Kafka error codes the group tests expect.
pub mod errors {
    /// NONE.
    pub const NONE: i16 = 0;
    /// UNKNOWN_TOPIC_OR_PARTITION.
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    /// ILLEGAL_GENERATION.
    pub const ILLEGAL_GENERATION: i16 = 22;
    /// UNKNOWN_MEMBER_ID.
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    /// REBALANCE_IN_PROGRESS.
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    /// MEMBER_ID_REQUIRED.
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

/// Versions used (inside the agent's ranges).
pub mod versions {
    /// JoinGroup v5 (member id required first, group.instance.id).
    pub const JOIN_GROUP: i16 = 5;
    /// SyncGroup v3.
    pub const SYNC_GROUP: i16 = 3;
    /// Heartbeat v3.
    pub const HEARTBEAT: i16 = 3;
    /// OffsetCommit v7.
    pub const OFFSET_COMMIT: i16 = 7;
    /// OffsetFetch v5.
    pub const OFFSET_FETCH: i16 = 5;
    /// DeleteGroups v1.
    pub const DELETE_GROUPS: i16 = 1;
}

/// A raw connection speaking the group protocol for one group.
#[derive(Debug)]
pub struct RawGroupClient {
    /// The connection (to the group's coordinator).
    pub client: RawClient,
    /// The group id.
    pub group: String,
}

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

impl RawGroupClient {
    /// Connects to `addr` (which must be the group's coordinator).
    pub fn connect(addr: SocketAddr, group: &str) -> Result<Self> {
        Ok(Self {
            client: RawClient::connect(addr)?,
            group: group.to_string(),
        })
    }

    /// One JoinGroup for protocol type "consumer" with one protocol ("range") whose
    /// metadata is `metadata`.
    pub fn join(&mut self, member_id: &str, metadata: Bytes) -> Result<JoinGroupResponse> {
        let request = JoinGroupRequest::default()
            .with_group_id(GroupId(s(&self.group)))
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(30_000)
            .with_member_id(s(member_id))
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![
                JoinGroupRequestProtocol::default()
                    .with_name(s("range"))
                    .with_metadata(metadata),
            ]);
        self.client
            .request(versions::JOIN_GROUP, &request)
            .context("JoinGroup")
    }

    /// Joins as a new member: the first JoinGroup gets MEMBER_ID_REQUIRED and a member
    /// id, the second completes (after the initial rebalance delay).
    pub fn join_new(&mut self, metadata: Bytes) -> Result<JoinGroupResponse> {
        let first = self.join("", metadata.clone())?;
        if first.error_code != errors::MEMBER_ID_REQUIRED {
            return Ok(first);
        }
        let member_id = first.member_id.to_string();
        self.join(&member_id, metadata)
    }

    /// SyncGroup with the given assignments (member id → bytes).
    pub fn sync(
        &mut self,
        generation: i32,
        member_id: &str,
        assignments: Vec<(String, Bytes)>,
    ) -> Result<SyncGroupResponse> {
        let request = SyncGroupRequest::default()
            .with_group_id(GroupId(s(&self.group)))
            .with_generation_id(generation)
            .with_member_id(s(member_id))
            .with_assignments(
                assignments
                    .into_iter()
                    .map(|(member, bytes)| {
                        SyncGroupRequestAssignment::default()
                            .with_member_id(s(&member))
                            .with_assignment(bytes)
                    })
                    .collect(),
            );
        self.client
            .request(versions::SYNC_GROUP, &request)
            .context("SyncGroup")
    }

    /// Heartbeat; returns its error code.
    pub fn heartbeat(&mut self, generation: i32, member_id: &str) -> Result<i16> {
        let request = HeartbeatRequest::default()
            .with_group_id(GroupId(s(&self.group)))
            .with_generation_id(generation)
            .with_member_id(s(member_id));
        Ok(self
            .client
            .request(versions::HEARTBEAT, &request)
            .context("Heartbeat")?
            .error_code)
    }

    /// OffsetCommit of one partition; returns its error code.
    pub fn commit(
        &mut self,
        generation: i32,
        member_id: &str,
        topic: &str,
        partition: i32,
        offset: i64,
        metadata: &str,
    ) -> Result<i16> {
        let request = OffsetCommitRequest::default()
            .with_group_id(GroupId(s(&self.group)))
            .with_generation_id_or_member_epoch(generation)
            .with_member_id(s(member_id))
            .with_topics(vec![
                OffsetCommitRequestTopic::default()
                    .with_name(topic_name(topic))
                    .with_partitions(vec![
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(partition)
                            .with_committed_offset(offset)
                            .with_committed_metadata(Some(s(metadata))),
                    ]),
            ]);
        let response = self
            .client
            .request(versions::OFFSET_COMMIT, &request)
            .context("OffsetCommit")?;
        let partition = response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .context("no partition in the OffsetCommit response")?;
        Ok(partition.error_code)
    }

    /// OffsetFetch of one partition: (error code, offset, metadata).
    pub fn fetch_offset(
        &mut self,
        topic: &str,
        partition: i32,
    ) -> Result<(i16, i64, Option<String>)> {
        let request = OffsetFetchRequest::default()
            .with_group_id(GroupId(s(&self.group)))
            .with_topics(Some(vec![
                OffsetFetchRequestTopic::default()
                    .with_name(topic_name(topic))
                    .with_partition_indexes(vec![partition]),
            ]));
        let response = self
            .client
            .request(versions::OFFSET_FETCH, &request)
            .context("OffsetFetch")?;
        let p = response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .context("no partition in the OffsetFetch response")?;
        Ok((
            p.error_code,
            p.committed_offset,
            p.metadata.as_ref().map(|m| m.to_string()),
        ))
    }

    /// DeleteGroups of this group; returns its error code.
    pub fn delete(&mut self) -> Result<i16> {
        let request =
            DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(&self.group))]);
        let response = self
            .client
            .request(versions::DELETE_GROUPS, &request)
            .context("DeleteGroups")?;
        let result = response
            .results
            .first()
            .context("no group in the DeleteGroups response")?;
        Ok(result.error_code)
    }
}

/// The `host:port` of `group`'s coordinator, as the agent at `addr` names it
/// (FindCoordinator v1).
pub fn coordinator(addr: SocketAddr, group: &str) -> Result<String> {
    let mut client = RawClient::connect(addr)?;
    let request = FindCoordinatorRequest::default()
        .with_key(s(group))
        .with_key_type(0);
    let response = client.request(1, &request).context("FindCoordinator")?;
    anyhow::ensure!(
        response.error_code == errors::NONE,
        "FindCoordinator answered error {}",
        response.error_code
    );
    Ok(format!("{}:{}", response.host, response.port))
}
