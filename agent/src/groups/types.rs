//! What group requests carry in and what their answers carry out, free of
//! wire types: the Kafka layer converts.

use bytes::Bytes;
use floe_metadata::{CommittedOffset, TopicId};
use tokio::sync::oneshot;

use super::GroupError;

/// One protocol a member supports (an assignor for consumers), with the
/// member's metadata for it (its subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// Protocol name, e.g. `range` or `cooperative-sticky`.
    pub name: String,
    /// The member's metadata for it.
    pub metadata: Bytes,
}

/// A JoinGroup.
#[derive(Debug, Clone)]
pub struct JoinArgs {
    /// Empty on a member's first join.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// The client's id.
    pub client_id: String,
    /// The client's address as this agent sees it.
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `max.poll.interval.ms` for consumers (the session timeout in v0).
    pub rebalance_timeout_ms: i32,
    /// `consumer` for consumers.
    pub protocol_type: String,
    /// Supported protocols, most preferred first.
    pub protocols: Vec<Protocol>,
    /// v4+: a first join gets MEMBER_ID_REQUIRED and a member id.
    pub require_known_member_id: bool,
    /// v9+: a static leader rejoining a stable group may skip assignment.
    pub supports_skip_assignment: bool,
}

/// A member as the leader sees it in a JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
    /// Its metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// The answer to a JoinGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    /// Why it failed, if it did.
    pub error: Option<GroupError>,
    /// The new generation, -1 on error.
    pub generation: i32,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The chosen protocol.
    pub protocol_name: Option<String>,
    /// The leader's member id.
    pub leader: String,
    /// The leader should not assign (static leader rejoining, v9+).
    pub skip_assignment: bool,
    /// The member's id.
    pub member_id: String,
    /// All members with their metadata, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinResult {
    /// A failed join.
    pub fn error(member_id: &str, error: GroupError) -> Self {
        Self {
            error: Some(error),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup.
#[derive(Debug, Clone)]
pub struct SyncArgs {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
    /// The generation the member joined.
    pub generation: i32,
    /// v5+: the protocol type the member expects.
    pub protocol_type: Option<String>,
    /// v5+: the protocol the member expects.
    pub protocol_name: Option<String>,
    /// The leader's assignment, by member id (empty from followers).
    pub assignments: Vec<(String, Bytes)>,
}

/// The answer to a SyncGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    /// Why it failed, if it did.
    pub error: Option<GroupError>,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// The chosen protocol.
    pub protocol_name: Option<String>,
    /// The member's assignment.
    pub assignment: Bytes,
}

impl SyncResult {
    /// A failed sync.
    pub fn error(error: GroupError) -> Self {
        Self {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// A Heartbeat.
#[derive(Debug, Clone)]
pub struct HeartbeatArgs {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
    /// The member's generation.
    pub generation: i32,
}

/// A member leaving (LeaveGroup names one, or several from v3).
#[derive(Debug, Clone)]
pub struct LeavingMember {
    /// Member id; empty to remove a static member by instance id.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
}

/// An OffsetCommit, with partitions already resolved to topic ids.
#[derive(Debug, Clone)]
pub struct CommitArgs {
    /// Member id; empty for a consumer outside group management.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
    /// Generation; -1 for a consumer outside group management.
    pub generation: i32,
    /// The offsets, all of existing partitions.
    pub offsets: Vec<CommittedOffset>,
}

/// A partition whose committed offset is to be deleted (OffsetDelete).
#[derive(Debug, Clone)]
pub struct OffsetToDelete {
    /// Topic name, to check subscriptions.
    pub topic: String,
    /// Topic id, for the store.
    pub topic_id: TopicId,
    /// Partition.
    pub partition: i32,
}

/// A group's state, named as Kafka names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    /// No members.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Waiting for the leader's assignment.
    CompletingRebalance,
    /// Members have their assignments.
    Stable,
    /// Removed (or never existed).
    Dead,
}

impl GroupStatus {
    /// The name Kafka uses in ListGroups and DescribeGroups.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::PreparingRebalance => "PreparingRebalance",
            Self::CompletingRebalance => "CompletingRebalance",
            Self::Stable => "Stable",
            Self::Dead => "Dead",
        }
    }
}

/// A group as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// State; `Dead` if the group does not exist.
    pub status: GroupStatus,
    /// Protocol type, empty if none.
    pub protocol_type: String,
    /// The chosen protocol while stable, else empty.
    pub protocol: String,
    /// Members.
    pub members: Vec<DescribedMember>,
}

/// A member as DescribeGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedMember {
    /// Member id.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Metadata for the chosen protocol (only while stable).
    pub metadata: Bytes,
    /// Assignment (only while stable).
    pub assignment: Bytes,
}

/// A group as ListGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Group id.
    pub group_id: String,
    /// Protocol type, empty if none.
    pub protocol_type: String,
    /// State.
    pub status: GroupStatus,
}

/// An answer that is ready, or that the group's task will send later.
#[derive(Debug)]
pub struct Pending<T>(PendingInner<T>);

#[derive(Debug)]
enum PendingInner<T> {
    Ready(T),
    Waiting(oneshot::Receiver<T>),
}

/// Answers that can carry a group error.
pub trait FromGroupError {
    /// The answer for `error`.
    fn from_group_error(error: GroupError) -> Self;
}

impl FromGroupError for JoinResult {
    fn from_group_error(error: GroupError) -> Self {
        Self::error("", error)
    }
}

impl FromGroupError for SyncResult {
    fn from_group_error(error: GroupError) -> Self {
        Self::error(error)
    }
}

impl<T> FromGroupError for Result<T, GroupError> {
    fn from_group_error(error: GroupError) -> Self {
        Err(error)
    }
}

impl<T: FromGroupError> Pending<T> {
    /// An answer known at once.
    pub fn ready(value: T) -> Self {
        Self(PendingInner::Ready(value))
    }

    /// An answer sent later on `rx`.
    pub(crate) fn waiting(rx: oneshot::Receiver<T>) -> Self {
        Self(PendingInner::Waiting(rx))
    }

    /// Waits for the answer. A group task that went away without
    /// answering (unloaded, agent stopping) means NOT_COORDINATOR: the
    /// client finds the coordinator again.
    pub async fn wait(self) -> T {
        match self.0 {
            PendingInner::Ready(v) => v,
            PendingInner::Waiting(rx) => rx
                .await
                .unwrap_or_else(|_| T::from_group_error(GroupError::NotCoordinator)),
        }
    }
}
