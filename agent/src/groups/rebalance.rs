//! Rebalancing: the join phase and its completion, leader election,
//! handing out the assignment, member removal, and the timers (session
//! expiry, the end of a join phase, the sync deadline).

use std::collections::HashMap;

use bytes::Bytes;
use tokio::time::Instant;

use super::GroupError;
use super::group::{Group, JoinTimer, Persist};
use super::types::{GroupStatus, JoinResult, SyncResult};

impl Group {
    // ---- rebalancing ---------------------------------------------------

    /// Starts a rebalance unless one is under way.
    pub(super) fn maybe_prepare_rebalance(&mut self, now: Instant) {
        if matches!(
            self.status,
            GroupStatus::Stable | GroupStatus::CompletingRebalance | GroupStatus::Empty
        ) {
            self.prepare_rebalance(now);
        }
    }

    pub(super) fn prepare_rebalance(&mut self, now: Instant) {
        if self.status == GroupStatus::CompletingRebalance {
            self.propagate_assignment_error(GroupError::RebalanceInProgress);
        }
        self.sync_deadline = None;
        let rebalance = self.rebalance_timeout();
        let delay = self.settings.initial_rebalance_delay;
        self.join_timer = Some(if self.status == GroupStatus::Empty {
            JoinTimer {
                deadline: now + delay,
                initial_remaining: Some(rebalance.saturating_sub(delay)),
                new_member_added: false,
            }
        } else {
            JoinTimer {
                deadline: now + rebalance,
                initial_remaining: None,
                new_member_added: false,
            }
        });
        self.status = GroupStatus::PreparingRebalance;
        // Everyone may have joined already (or nobody is left).
        self.try_complete_join(now);
    }

    /// Completes the join phase if every member has rejoined (never during
    /// an empty group's initial delay, which only ends on its timer).
    pub(super) fn try_complete_join(&mut self, now: Instant) {
        let initial = self
            .join_timer
            .is_some_and(|t| t.initial_remaining.is_some());
        if self.status == GroupStatus::PreparingRebalance
            && !initial
            && self.pending.is_empty()
            && self.members.iter().all(|m| m.awaiting_join.is_some())
        {
            self.complete_join(now);
        }
    }

    fn complete_join(&mut self, now: Instant) {
        self.join_timer = None;
        // Dynamic members that did not rejoin are gone; static ones stay
        // (they keep their assignment until their session expires).
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.awaiting_join.is_none() && m.instance_id.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in gone {
            self.remove(&id, GroupError::UnknownMemberId);
        }
        if !self.elect_joined_leader() && !self.members.is_empty() {
            // Nobody rejoined: wait again; session expiry will clear the
            // members that are really gone.
            self.join_timer = Some(JoinTimer {
                deadline: now + self.rebalance_timeout(),
                initial_remaining: None,
                new_member_added: false,
            });
            return;
        }
        self.generation += 1;
        self.pending_sync.clear();
        if self.members.is_empty() {
            self.protocol_name = None;
            self.subscribed = None;
            self.status = GroupStatus::Empty;
            self.to_persist.push_back(Persist::Empty);
            return;
        }
        self.protocol_name = self.select_protocol().or_else(|| {
            self.members
                .first()
                .and_then(|m| m.protocols.first())
                .map(|p| p.name.clone())
        });
        self.subscribed = self.compute_subscribed();
        self.status = GroupStatus::CompletingRebalance;
        let everyone = self.member_metadata();
        for i in 0..self.members.len() {
            let is_leader = self.is_leader(&self.members[i].id);
            let mut answer = self.join_result(&self.members[i].id, false);
            if is_leader {
                answer.members = everyone.clone();
            }
            let member = &mut self.members[i];
            member.answer_join(answer);
            member.touch(now);
            member.is_new = false;
            self.pending_sync.insert(member.id.clone());
        }
        self.sync_deadline = Some(now + self.rebalance_timeout());
    }

    /// Keeps the leader if it rejoined, else makes any rejoined member the
    /// leader. False if no member rejoined.
    fn elect_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader.clone() else {
            return false;
        };
        if self
            .position(&leader)
            .is_some_and(|i| self.members[i].awaiting_join.is_some())
        {
            return true;
        }
        match self.members.iter().find(|m| m.awaiting_join.is_some()) {
            Some(m) => {
                self.leader = Some(m.id.clone());
                true
            }
            None => false,
        }
    }

    pub(super) fn propagate_assignment(
        &mut self,
        now: Instant,
        assignment: &HashMap<String, Bytes>,
    ) {
        for m in &mut self.members {
            m.assignment = assignment.get(&m.id).cloned().unwrap_or_default();
            if m.awaiting_sync.is_some() {
                m.answer_sync(SyncResult {
                    error: None,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: m.assignment.clone(),
                });
                m.touch(now);
            }
        }
    }

    pub(super) fn propagate_assignment_error(&mut self, error: GroupError) {
        for m in &mut self.members {
            m.assignment = Bytes::new();
            m.answer_sync(SyncResult::error(error));
        }
    }

    /// Removes a member, answering what it waits for with `error`.
    pub(super) fn remove(&mut self, member_id: &str, error: GroupError) {
        let Some(pos) = self.position(member_id) else {
            return;
        };
        let mut member = self.members.remove(pos);
        member.answer_join(JoinResult::error("", error));
        member.answer_sync(SyncResult::error(error));
        self.pending_sync.remove(member_id);
        if self.is_leader(member_id) {
            self.leader = self.members.first().map(|m| m.id.clone());
        }
    }

    /// Removes a member and rebalances the others.
    pub(super) fn remove_and_rebalance(&mut self, now: Instant, member_id: &str) {
        self.remove(member_id, GroupError::UnknownMemberId);
        match self.status {
            GroupStatus::Stable | GroupStatus::CompletingRebalance => {
                self.maybe_prepare_rebalance(now);
            }
            GroupStatus::PreparingRebalance => self.try_complete_join(now),
            GroupStatus::Empty | GroupStatus::Dead => {}
        }
    }

    pub(super) fn remove_pending(&mut self, now: Instant, member_id: &str) {
        self.pending.retain(|p| p.id != member_id);
        if self.status == GroupStatus::PreparingRebalance {
            self.try_complete_join(now);
        }
    }

    // ---- timers --------------------------------------------------------

    /// The next time [`Group::tick`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.members
            .iter()
            .map(|m| m.deadline)
            .chain(self.pending.iter().map(|p| p.deadline))
            .chain(self.join_timer.map(|t| t.deadline))
            .chain(self.sync_deadline)
            .min()
    }

    /// Runs every timer due at `now`: session expiry, the end of a join
    /// phase, the sync deadline.
    pub fn tick(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .pending
            .iter()
            .filter(|p| p.deadline <= now)
            .map(|p| p.id.clone())
            .collect();
        for id in expired {
            self.remove_pending(now, &id);
        }
        let expired: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.deadline <= now)
            .map(|m| m.id.clone())
            .collect();
        for id in expired {
            let Some(pos) = self.position(&id) else {
                continue;
            };
            let m = &mut self.members[pos];
            // A member waiting on the rebalance needs no heartbeat, except
            // a new one, which may only wait so long.
            if !m.is_new && (m.awaiting_join.is_some() || m.awaiting_sync.is_some()) {
                m.touch(now);
                continue;
            }
            tracing::info!(group = %self.id, member = %id, "member session expired");
            self.remove_and_rebalance(now, &id);
        }
        if let Some(timer) = self.join_timer.filter(|t| t.deadline <= now) {
            self.join_timer = None;
            match timer.initial_remaining {
                Some(remaining) if timer.new_member_added && !remaining.is_zero() => {
                    let delay = self.settings.initial_rebalance_delay.min(remaining);
                    self.join_timer = Some(JoinTimer {
                        deadline: now + delay,
                        initial_remaining: Some(remaining.saturating_sub(delay)),
                        new_member_added: false,
                    });
                }
                _ => {
                    if self.status == GroupStatus::PreparingRebalance {
                        self.complete_join(now);
                    }
                }
            }
        }
        if self.sync_deadline.is_some_and(|d| d <= now) {
            self.sync_deadline = None;
            if matches!(
                self.status,
                GroupStatus::CompletingRebalance | GroupStatus::Stable
            ) && !self.pending_sync.is_empty()
            {
                let late: Vec<String> =
                    std::mem::take(&mut self.pending_sync).into_iter().collect();
                tracing::info!(group = %self.id, members = ?late, "members did not sync in time");
                for id in late {
                    self.remove(&id, GroupError::UnknownMemberId);
                }
                self.prepare_rebalance(now);
            }
        }
    }
}
