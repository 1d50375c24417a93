//! The consumer-group coordinator.
//!
//! FindCoordinator names one agent per group (rendezvous hashing over the
//! live agents); that agent runs the classic join/sync/heartbeat protocol
//! for the group in memory, exactly as Kafka's group coordinator does, and
//! persists each completed generation and every offset commit in the
//! metadata store with compare-and-set on the generation, so that two
//! agents that both believe they own a group cannot both write.
//!
//! The code follows the data:
//!
//! - [`coordinator`]: routing of a request to its group (ownership check,
//!   loading from the store, one task per loaded group), and housekeeping;
//! - `actor`: the task of one group, which serializes its requests, timers
//!   and store writes;
//! - `group`, `join`, `requests`, `rebalance`: the state machine itself,
//!   plain code over an injected `now` with no I/O, so tests drive it
//!   deterministically;
//! - [`types`]: what requests carry in and answers carry out;
//! - [`lag`]: the consumer-lag metrics of the groups this agent coordinates.

mod actor;
pub mod coordinator;
mod group;
mod join;
mod member;
mod rebalance;
mod requests;
pub mod types;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use coordinator::Coordinator;
pub use types::{
    CommitArgs, DescribedMember, Description, GroupStatus, HeartbeatArgs, JoinArgs, JoinResult,
    JoinedMember, LeavingMember, Listed, OffsetToDelete, Pending, Protocol, SyncArgs, SyncResult,
};

/// Why a group operation was refused. The Kafka layer maps each to its
/// error code in `kafka::error_codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// Another agent coordinates the group: find the coordinator again.
    #[error("this agent does not coordinate the group")]
    NotCoordinator,
    /// The group is being loaded from the metadata store: retry soon.
    #[error("the group is loading")]
    LoadInProgress,
    /// The coordinator cannot serve the group right now (store failure,
    /// group just deleted): retry, maybe after finding it again.
    #[error("the coordinator is not available")]
    CoordinatorNotAvailable,
    /// Empty group id where one is required.
    #[error("invalid group id")]
    InvalidGroupId,
    /// The member id is not (or no longer) in the group.
    #[error("unknown member id")]
    UnknownMemberId,
    /// The generation is not the group's current one.
    #[error("illegal generation")]
    IllegalGeneration,
    /// The group is rebalancing: rejoin.
    #[error("rebalance in progress")]
    RebalanceInProgress,
    /// A first JoinGroup (v4+): join again with the member id given.
    #[error("member id required")]
    MemberIdRequired,
    /// Another member took over this static member's instance id.
    #[error("fenced instance id")]
    FencedInstanceId,
    /// The member's protocols do not match the group's.
    #[error("inconsistent group protocol")]
    InconsistentGroupProtocol,
    /// The group has `group.max.size` members: no new one may join.
    #[error("the group has reached its maximum size")]
    GroupMaxSizeReached,
    /// The session timeout is outside the coordinator's bounds.
    #[error("invalid session timeout")]
    InvalidSessionTimeout,
    /// The group still has members.
    #[error("the group is not empty")]
    NonEmptyGroup,
    /// No such group.
    #[error("group id not found")]
    GroupIdNotFound,
    /// A member of the group subscribes to the topic.
    #[error("the group is subscribed to the topic")]
    GroupSubscribedToTopic,
    /// Commit metadata is over the size limit.
    #[error("offset metadata too large")]
    OffsetMetadataTooLarge,
}

/// Kafka's group-coordinator settings, at Kafka's defaults.
#[derive(Debug, Clone)]
pub struct GroupSettings {
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of
    /// an empty group waits for more members (each newcomer extends it,
    /// up to the rebalance timeout).
    pub initial_rebalance_delay: Duration,
    /// `group.min.session.timeout.ms`.
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms`.
    pub max_session_timeout: Duration,
    /// `group.max.size`: members a group may have, counting those that
    /// were given an id and have not joined with it yet.
    pub max_size: usize,
    /// How long a new member's JoinGroup may wait before it is dropped.
    pub new_member_join_timeout: Duration,
    /// `offsets.retention.minutes`: committed offsets of an empty group
    /// are dropped this long after its last commit.
    pub offsets_retention: Duration,
    /// `offsets.retention.check.interval.ms`.
    pub retention_check_interval: Duration,
    /// `offset.metadata.max.bytes`.
    pub max_metadata_bytes: usize,
    /// An empty group untouched this long leaves memory (it is in the
    /// store; the next request loads it again).
    pub idle_unload: Duration,
    /// How often the coordinator checks that it still owns its groups.
    pub ownership_check_interval: Duration,
    /// Source of member ids.
    pub member_ids: MemberIds,
    /// Wall clock for commit timestamps, in ms since the epoch.
    pub wall_clock_ms: fn() -> i64,
}

impl Default for GroupSettings {
    fn default() -> Self {
        Self {
            initial_rebalance_delay: Duration::from_secs(3),
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            max_size: i32::MAX as usize,
            new_member_join_timeout: Duration::from_secs(5 * 60),
            offsets_retention: Duration::from_secs(7 * 24 * 60 * 60),
            retention_check_interval: Duration::from_secs(10 * 60),
            max_metadata_bytes: 4096,
            idle_unload: Duration::from_secs(10 * 60),
            ownership_check_interval: Duration::from_secs(1),
            member_ids: MemberIds::Random,
            wall_clock_ms: crate::wall_clock::now_ms,
        }
    }
}

/// How member ids are made: `<client id or instance id>-<unique suffix>`,
/// as Kafka does.
#[derive(Debug, Clone)]
pub enum MemberIds {
    /// A random UUID suffix (production).
    Random,
    /// A counter suffix (deterministic tests).
    Sequential(Arc<AtomicU64>),
}

impl MemberIds {
    /// A new member id for a member whose client (or instance) id is
    /// `prefix`.
    pub fn next(&self, prefix: &str) -> String {
        match self {
            Self::Random => format!("{prefix}-{}", uuid::Uuid::new_v4()),
            Self::Sequential(n) => format!("{prefix}-{}", n.fetch_add(1, Ordering::Relaxed)),
        }
    }
}
