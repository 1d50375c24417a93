//! One group's state machine: Kafka's classic group protocol (Empty,
//! PreparingRebalance, CompletingRebalance, Stable, Dead), as plain code
//! over an injected `now` with no I/O. This file holds the group's state
//! and its persistence; `join`, `requests` and `rebalance` hold the
//! transitions.
//!
//! Answers to waiting JoinGroup and SyncGroup requests leave through the
//! members' oneshot senders. Store writes are queued as [`Persist`] items:
//! the group's task performs each one and reports back through
//! [`Group::persisted`] before it handles anything else, so the group never
//! sees another request between a write and its outcome.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use floe_metadata::{GroupMember, GroupState};
use kafka_protocol::messages::ConsumerProtocolSubscription;
use kafka_protocol::protocol::{Decodable, Message};
use tokio::time::Instant;

use super::member::{Member, PendingMember};
use super::types::{GroupStatus, JoinResult, JoinedMember, Protocol, SyncResult};
use super::{GroupError, GroupSettings};

/// The consumer protocol type, whose metadata Floe reads (OffsetDelete).
pub(super) const CONSUMER: &str = "consumer";

/// The end of a PreparingRebalance phase.
#[derive(Debug, Clone, Copy)]
pub(super) struct JoinTimer {
    pub deadline: Instant,
    /// Set during the initial delay of an empty group's first rebalance:
    /// how much of the rebalance timeout is left to extend it by.
    pub initial_remaining: Option<Duration>,
    /// A member joined during the current initial delay.
    pub new_member_added: bool,
}

/// A store write the group's task must perform.
#[derive(Debug)]
pub(crate) enum Persist {
    /// The leader's assignment for `generation`: the group becomes stable
    /// once it is stored.
    Assignment {
        generation: i32,
        assignment: HashMap<String, Bytes>,
    },
    /// The group became empty.
    Empty,
    /// A static member rejoined a stable group under a new member id
    /// without a rebalance; it is answered once the new id is stored.
    StaticRejoin(Box<StaticRejoin>),
}

/// What to answer, or undo, after a [`Persist::StaticRejoin`].
#[derive(Debug)]
pub(crate) struct StaticRejoin {
    pub old_id: String,
    pub new_id: String,
    pub old_protocols: Vec<Protocol>,
    pub old_session_timeout: Duration,
    pub old_rebalance_timeout: Duration,
    pub answer: JoinResult,
}

/// How a store write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PersistOutcome {
    Stored,
    /// The stored generation moved on: another agent coordinates the group.
    Conflict,
    /// The store failed.
    Failed,
}

/// One consumer group.
#[derive(Debug)]
pub(crate) struct Group {
    pub(super) id: String,
    pub(super) status: GroupStatus,
    pub(super) generation: i32,
    pub(super) protocol_type: Option<String>,
    pub(super) protocol_name: Option<String>,
    pub(super) leader: Option<String>,
    /// In join order; the first is the next leader if the leader leaves.
    pub(super) members: Vec<Member>,
    pub(super) pending: Vec<PendingMember>,
    /// Members that have not sent SyncGroup for this generation.
    pub(super) pending_sync: BTreeSet<String>,
    pub(super) join_timer: Option<JoinTimer>,
    pub(super) sync_deadline: Option<Instant>,
    /// Topics the members subscribe to; `None` if unknown.
    pub(super) subscribed: Option<BTreeSet<String>>,
    /// The generation last stored, `None` if the group was never stored.
    pub(super) persisted: Option<i32>,
    /// Whether the group exists for admin APIs: it has a stored state or
    /// offsets, or has had members.
    pub(super) exists: bool,
    pub(super) to_persist: VecDeque<Persist>,
    pub(super) settings: GroupSettings,
}

impl Group {
    /// A group nobody stored: `exists` if it has committed offsets.
    pub fn new(id: &str, exists: bool, settings: GroupSettings) -> Self {
        Self {
            id: id.to_string(),
            status: GroupStatus::Empty,
            generation: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: Vec::new(),
            pending: Vec::new(),
            pending_sync: BTreeSet::new(),
            join_timer: None,
            sync_deadline: None,
            subscribed: None,
            persisted: None,
            exists,
            to_persist: VecDeque::new(),
            settings,
        }
    }

    /// A group as it was stored. Its members keep their assignments and
    /// get a fresh session: one that heartbeats with the stored generation
    /// carries on; one that does not is removed after its session timeout.
    pub fn from_stored(state: GroupState, settings: GroupSettings, now: Instant) -> Self {
        let mut group = Self::new(&state.group_id, true, settings);
        group.generation = state.generation;
        group.persisted = Some(state.generation);
        group.protocol_type = state.protocol_type;
        group.protocol_name = state.protocol;
        group.members = state
            .members
            .into_iter()
            .map(|m| {
                let session_timeout = duration_ms(m.session_timeout_ms);
                Member {
                    protocols: group
                        .protocol_name
                        .iter()
                        .map(|name| Protocol {
                            name: name.clone(),
                            metadata: Bytes::from(m.metadata.clone()),
                        })
                        .collect(),
                    id: m.member_id,
                    instance_id: m.group_instance_id,
                    client_id: m.client_id,
                    client_host: m.client_host,
                    session_timeout,
                    rebalance_timeout: duration_ms(m.rebalance_timeout_ms),
                    assignment: Bytes::from(m.assignment),
                    awaiting_join: None,
                    awaiting_sync: None,
                    is_new: false,
                    deadline: now + session_timeout,
                }
            })
            .collect();
        group.leader = state
            .leader
            .filter(|l| group.members.iter().any(|m| &m.id == l))
            .or_else(|| group.members.first().map(|m| m.id.clone()));
        group.status = if group.members.is_empty() || group.protocol_name.is_none() {
            GroupStatus::Empty
        } else {
            GroupStatus::Stable
        };
        if group.status == GroupStatus::Empty {
            group.members.clear();
            group.leader = None;
        }
        group.subscribed = group.compute_subscribed();
        group
    }

    /// The state to store for `persist`.
    pub fn snapshot(&self, persist: &Persist) -> GroupState {
        let protocol = self.protocol_name.as_deref();
        let members = self
            .members
            .iter()
            .map(|m| GroupMember {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                session_timeout_ms: millis_i32(m.session_timeout),
                rebalance_timeout_ms: millis_i32(m.rebalance_timeout),
                metadata: m.metadata(protocol).to_vec(),
                assignment: match persist {
                    Persist::Assignment { assignment, .. } => {
                        assignment.get(&m.id).cloned().unwrap_or_default().to_vec()
                    }
                    _ => m.assignment.to_vec(),
                },
            })
            .collect();
        GroupState {
            group_id: self.id.clone(),
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol: self.protocol_name.clone(),
            leader: self.leader.clone(),
            members,
        }
    }

    /// The generation last stored (the compare-and-set's expected value).
    pub fn persisted_generation(&self) -> Option<i32> {
        self.persisted
    }

    /// The next store write to perform, if any.
    pub fn next_persist(&mut self) -> Option<Persist> {
        self.to_persist.pop_front()
    }

    /// Reports how a write from [`Group::next_persist`] went.
    pub fn persisted(&mut self, now: Instant, persist: Persist, outcome: PersistOutcome) {
        if outcome == PersistOutcome::Conflict {
            self.kill(GroupError::NotCoordinator);
            return;
        }
        if outcome == PersistOutcome::Stored {
            self.persisted = Some(self.generation);
        }
        match persist {
            Persist::Assignment {
                generation,
                assignment,
            } => {
                if self.status != GroupStatus::CompletingRebalance || generation != self.generation
                {
                    return;
                }
                if outcome == PersistOutcome::Stored {
                    self.propagate_assignment(now, &assignment);
                    self.status = GroupStatus::Stable;
                } else {
                    self.propagate_assignment_error(GroupError::CoordinatorNotAvailable);
                    self.maybe_prepare_rebalance(now);
                }
            }
            // A failed write of an empty group loses nothing: its members
            // are gone, and the stored generation is older.
            Persist::Empty => {}
            Persist::StaticRejoin(rejoin) => self.static_rejoin_persisted(*rejoin, outcome),
        }
    }

    fn static_rejoin_persisted(&mut self, rejoin: StaticRejoin, outcome: PersistOutcome) {
        let Some(pos) = self.position(&rejoin.new_id) else {
            return;
        };
        if outcome == PersistOutcome::Stored {
            self.members[pos].answer_join(rejoin.answer);
            return;
        }
        // Undo the replacement: the previous member id stays valid.
        let member = &mut self.members[pos];
        member.answer_join(JoinResult::error("", GroupError::CoordinatorNotAvailable));
        member.id = rejoin.old_id.clone();
        member.protocols = rejoin.old_protocols;
        member.session_timeout = rejoin.old_session_timeout;
        member.rebalance_timeout = rejoin.old_rebalance_timeout;
        self.rename(&rejoin.new_id, &rejoin.old_id);
    }

    /// Points the leader and pending-sync entries of `from` at `to`.
    pub(super) fn rename(&mut self, from: &str, to: &str) {
        if self.leader.as_deref() == Some(from) {
            self.leader = Some(to.to_string());
        }
        if self.pending_sync.remove(from) {
            self.pending_sync.insert(to.to_string());
        }
    }

    /// Ends the group here: every waiting request gets `error`.
    pub fn kill(&mut self, error: GroupError) {
        for m in &mut self.members {
            m.answer_join(JoinResult::error(&m.id.clone(), error));
            m.answer_sync(SyncResult::error(error));
        }
        self.members.clear();
        self.pending.clear();
        self.pending_sync.clear();
        self.join_timer = None;
        self.sync_deadline = None;
        self.to_persist.clear();
        self.leader = None;
        self.status = GroupStatus::Dead;
    }

    /// The group's state.
    pub fn status(&self) -> GroupStatus {
        self.status
    }

    /// Whether the group exists for the admin APIs.
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// The protocol type, if any.
    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    /// Whether nothing would be lost by dropping the group from memory.
    pub fn is_idle(&self) -> bool {
        self.members.is_empty() && self.pending.is_empty() && self.to_persist.is_empty()
    }

    pub(super) fn position(&self, member_id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.id == member_id)
    }

    pub(super) fn is_leader(&self, member_id: &str) -> bool {
        self.leader.as_deref() == Some(member_id)
    }

    pub(super) fn static_member_id(&self, instance_id: &str) -> Option<String> {
        self.members
            .iter()
            .find(|m| m.instance_id.as_deref() == Some(instance_id))
            .map(|m| m.id.clone())
    }

    /// A static member whose instance id now belongs to another member id.
    pub(super) fn is_fenced(&self, instance_id: Option<&str>, member_id: &str) -> bool {
        instance_id
            .and_then(|i| self.static_member_id(i))
            .is_some_and(|current| current != member_id)
    }

    /// The rebalance timeout: the largest of the members'.
    pub(super) fn rebalance_timeout(&self) -> Duration {
        self.members
            .iter()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default()
    }

    /// Protocols every member supports, in the first member's order.
    pub(super) fn candidates(&self) -> Vec<String> {
        let Some(first) = self.members.first() else {
            return Vec::new();
        };
        first
            .protocols
            .iter()
            .map(|p| p.name.clone())
            .filter(|name| self.members.iter().all(|m| m.supports(name)))
            .collect()
    }

    /// The protocol most members prefer among those all support.
    pub(super) fn select_protocol(&self) -> Option<String> {
        let candidates = self.candidates();
        let mut votes = vec![0usize; candidates.len()];
        for m in &self.members {
            if let Some(i) = m
                .vote(&candidates)
                .and_then(|v| candidates.iter().position(|c| c == v))
            {
                votes[i] += 1;
            }
        }
        let mut best: Option<usize> = None;
        for (i, &n) in votes.iter().enumerate() {
            if best.is_none_or(|b| n > votes[b]) {
                best = Some(i);
            }
        }
        best.map(|i| candidates[i].clone())
    }

    /// The members and their metadata for the chosen protocol, for the
    /// leader's JoinGroup answer.
    pub(super) fn member_metadata(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref();
        self.members
            .iter()
            .map(|m| JoinedMember {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                metadata: m.metadata(protocol),
            })
            .collect()
    }

    /// A JoinGroup answer for `member_id` in the current generation.
    pub(super) fn join_result(&self, member_id: &str, with_members: bool) -> JoinResult {
        JoinResult {
            error: None,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: if with_members {
                self.member_metadata()
            } else {
                Vec::new()
            },
        }
    }

    pub(super) fn compute_subscribed(&self) -> Option<BTreeSet<String>> {
        if self.protocol_type.as_deref() != Some(CONSUMER) {
            return None;
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut topics = BTreeSet::new();
        for m in &self.members {
            topics.extend(subscription_topics(&m.metadata(Some(protocol)))?);
        }
        Some(topics)
    }

    /// Whether a member may consume `topic` (unknown subscriptions count
    /// as subscribed).
    pub(super) fn is_subscribed(&self, topic: &str) -> bool {
        self.subscribed.as_ref().is_none_or(|t| t.contains(topic))
    }
}

/// The topics in a consumer protocol subscription, `None` if it does not
/// parse.
pub(super) fn subscription_topics(metadata: &[u8]) -> Option<Vec<String>> {
    let mut buf = Bytes::copy_from_slice(metadata);
    if buf.len() < 2 {
        return None;
    }
    let version = i16::from_be_bytes([buf[0], buf[1]]);
    bytes::Buf::advance(&mut buf, 2);
    // Newer versions only add fields at the end: read them as the newest
    // version this crate knows.
    let known = ConsumerProtocolSubscription::VERSIONS;
    let version = version.clamp(known.min, known.max);
    ConsumerProtocolSubscription::decode(&mut buf, version)
        .ok()
        .map(|s| s.topics.into_iter().map(|t| t.to_string()).collect())
}

/// A non-negative millisecond count as a duration.
pub(super) fn duration_ms(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn millis_i32(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}
