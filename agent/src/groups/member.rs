//! One member of a group, with the answers it is waiting for.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::types::{JoinResult, Protocol, SyncResult};

/// A member a JoinGroup answered with MEMBER_ID_REQUIRED: it is expected
/// to join again with its id within its session timeout.
#[derive(Debug)]
pub(super) struct PendingMember {
    pub id: String,
    pub deadline: Instant,
}

/// A group member.
#[derive(Debug)]
pub(super) struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// Supported protocols, most preferred first.
    pub protocols: Vec<Protocol>,
    /// Its assignment in the current generation.
    pub assignment: Bytes,
    /// Its JoinGroup, waiting for the rebalance to complete.
    pub awaiting_join: Option<oneshot::Sender<JoinResult>>,
    /// Its SyncGroup, waiting for the leader's assignment.
    pub awaiting_sync: Option<oneshot::Sender<SyncResult>>,
    /// Joined during the current rebalance (not yet answered once).
    pub is_new: bool,
    /// When it is removed unless it heartbeats (or is waiting on a
    /// rebalance).
    pub deadline: Instant,
}

impl Member {
    /// Its metadata for `protocol` (empty if it does not support it).
    pub fn metadata(&self, protocol: Option<&str>) -> Bytes {
        protocol
            .and_then(|name| self.protocols.iter().find(|p| p.name == name))
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }

    /// Whether it supports `protocol`.
    pub fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p.name == protocol)
    }

    /// Whether `protocols` are exactly its current ones.
    pub fn matches(&self, protocols: &[Protocol]) -> bool {
        self.protocols == protocols
    }

    /// Its most preferred protocol among `candidates`.
    pub fn vote<'a>(&self, candidates: &'a [String]) -> Option<&'a String> {
        self.protocols
            .iter()
            .find_map(|p| candidates.iter().find(|c| **c == p.name))
    }

    /// Answers its waiting JoinGroup, if any.
    pub fn answer_join(&mut self, result: JoinResult) {
        if let Some(tx) = self.awaiting_join.take() {
            let _ = tx.send(result);
        }
    }

    /// Answers its waiting SyncGroup, if any.
    pub fn answer_sync(&mut self, result: SyncResult) {
        if let Some(tx) = self.awaiting_sync.take() {
            let _ = tx.send(result);
        }
    }

    /// Pushes the session deadline out from `now`.
    pub fn touch(&mut self, now: Instant) {
        self.deadline = now + self.session_timeout;
    }
}
