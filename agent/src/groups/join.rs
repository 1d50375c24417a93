//! JoinGroup: new members, known members, and static members rejoining
//! under a new member id, by Kafka's rules.

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::GroupError;
use super::group::{Group, Persist, StaticRejoin};
use super::member::{Member, PendingMember};
use super::types::{GroupStatus, JoinArgs, JoinResult, Protocol};

type Reply = oneshot::Sender<JoinResult>;

impl Group {
    /// JoinGroup. The answer comes through `reply`, at once or when the
    /// rebalance completes.
    pub fn join(&mut self, now: Instant, args: JoinArgs, reply: Reply) {
        let session = super::group::duration_ms(args.session_timeout_ms);
        if args.session_timeout_ms < 0
            || session < self.settings.min_session_timeout
            || session > self.settings.max_session_timeout
        {
            let _ = reply.send(JoinResult::error(
                &args.member_id,
                GroupError::InvalidSessionTimeout,
            ));
            return;
        }
        if self.status == GroupStatus::Dead {
            let _ = reply.send(JoinResult::error(
                &args.member_id,
                GroupError::CoordinatorNotAvailable,
            ));
            return;
        }
        if !self.supports_protocols(&args.protocol_type, &args.protocols) {
            let _ = reply.send(JoinResult::error(
                &args.member_id,
                GroupError::InconsistentGroupProtocol,
            ));
            return;
        }
        if args.member_id.is_empty() {
            self.join_new(now, args, reply);
        } else {
            self.join_known(now, args, reply);
        }
        if self.status == GroupStatus::PreparingRebalance {
            self.try_complete_join(now);
        }
    }

    /// An empty group takes any protocol type with at least one protocol;
    /// otherwise the type must match and one protocol must be supported
    /// by every member.
    fn supports_protocols(&self, protocol_type: &str, protocols: &[Protocol]) -> bool {
        if self.members.is_empty() {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        let candidates = self.candidates();
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|p| candidates.contains(&p.name))
    }

    fn join_new(&mut self, now: Instant, args: JoinArgs, reply: Reply) {
        let replaces_static = args
            .group_instance_id
            .as_deref()
            .is_some_and(|i| self.static_member_id(i).is_some());
        if !replaces_static && self.members.len() + self.pending.len() >= self.settings.max_size {
            let _ = reply.send(JoinResult::error("", GroupError::GroupMaxSizeReached));
            return;
        }
        let prefix = args.group_instance_id.as_deref().unwrap_or(&args.client_id);
        let new_id = self.settings.member_ids.next(prefix);
        if let Some(instance) = args.group_instance_id.clone() {
            match self.static_member_id(&instance) {
                Some(old_id) => self.replace_static(now, args, old_id, new_id, reply),
                None => self.add_member_and_rebalance(now, new_id, args, reply),
            }
        } else if args.require_known_member_id {
            // The member must come back with this id; until then the
            // rebalance waits for it (at most its session timeout).
            self.pending.push(PendingMember {
                id: new_id.clone(),
                deadline: now + super::group::duration_ms(args.session_timeout_ms),
            });
            let _ = reply.send(JoinResult::error(&new_id, GroupError::MemberIdRequired));
        } else {
            self.add_member_and_rebalance(now, new_id, args, reply);
        }
    }

    fn join_known(&mut self, now: Instant, args: JoinArgs, reply: Reply) {
        let id = args.member_id.clone();
        if self.pending.iter().any(|p| p.id == id) {
            if args.group_instance_id.is_some() {
                // Static members are never pending.
                let _ = reply.send(JoinResult::error(&id, GroupError::UnknownMemberId));
                return;
            }
            self.add_member_and_rebalance(now, id, args, reply);
            return;
        }
        let instance = args.group_instance_id.as_deref();
        if self.is_fenced(instance, &id) {
            let _ = reply.send(JoinResult::error(&id, GroupError::FencedInstanceId));
            return;
        }
        let unknown_instance = instance.is_some_and(|i| self.static_member_id(i).is_none());
        let Some(pos) = self.position(&id).filter(|_| !unknown_instance) else {
            let _ = reply.send(JoinResult::error(&id, GroupError::UnknownMemberId));
            return;
        };
        match self.status {
            GroupStatus::PreparingRebalance => self.update_and_rebalance(now, pos, args, reply),
            GroupStatus::CompletingRebalance => {
                if self.members[pos].matches(&args.protocols) {
                    // It missed its JoinGroup answer: send it again.
                    let leader = self.is_leader(&id);
                    let _ = reply.send(self.join_result(&id, leader));
                } else {
                    self.update_and_rebalance(now, pos, args, reply);
                }
            }
            GroupStatus::Stable => {
                // A rejoining leader rebalances (it may have seen topic
                // changes); so does a member whose metadata changed.
                if self.is_leader(&id) || !self.members[pos].matches(&args.protocols) {
                    self.update_and_rebalance(now, pos, args, reply);
                } else {
                    let _ = reply.send(self.join_result(&id, false));
                }
            }
            GroupStatus::Empty | GroupStatus::Dead => {
                let _ = reply.send(JoinResult::error(&id, GroupError::UnknownMemberId));
            }
        }
    }

    fn add_member_and_rebalance(&mut self, now: Instant, id: String, args: JoinArgs, reply: Reply) {
        if self.status == GroupStatus::PreparingRebalance
            && self.generation == 0
            && let Some(timer) = &mut self.join_timer
        {
            timer.new_member_added = true;
        }
        if self.members.is_empty() {
            self.protocol_type = Some(args.protocol_type.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(id.clone());
        }
        self.pending.retain(|p| p.id != id);
        self.members.push(Member {
            id,
            instance_id: args.group_instance_id,
            client_id: args.client_id,
            client_host: args.client_host,
            session_timeout: super::group::duration_ms(args.session_timeout_ms),
            rebalance_timeout: super::group::duration_ms(args.rebalance_timeout_ms),
            protocols: args.protocols,
            assignment: Default::default(),
            awaiting_join: Some(reply),
            awaiting_sync: None,
            is_new: true,
            // A new member cannot heartbeat before its first answer; its
            // JoinGroup may only wait this long.
            deadline: now + self.settings.new_member_join_timeout,
        });
        self.exists = true;
        self.maybe_prepare_rebalance(now);
    }

    fn update_and_rebalance(&mut self, now: Instant, pos: usize, args: JoinArgs, reply: Reply) {
        let member = &mut self.members[pos];
        member.protocols = args.protocols;
        member.session_timeout = super::group::duration_ms(args.session_timeout_ms);
        member.rebalance_timeout = super::group::duration_ms(args.rebalance_timeout_ms);
        if let Some(old) = member.awaiting_join.replace(reply) {
            let _ = old.send(JoinResult::error(
                &member.id,
                GroupError::RebalanceInProgress,
            ));
        }
        self.maybe_prepare_rebalance(now);
    }

    /// A static member rejoined with an unknown member id: it takes over
    /// its instance's membership under `new_id`, and the old member id is
    /// fenced. In a stable group whose protocol this does not change, no
    /// rebalance happens: the member gets its assignment back by syncing.
    fn replace_static(
        &mut self,
        now: Instant,
        args: JoinArgs,
        old_id: String,
        new_id: String,
        reply: Reply,
    ) {
        let Some(pos) = self.position(&old_id) else {
            let _ = reply.send(JoinResult::error("", GroupError::UnknownMemberId));
            return;
        };
        let leader_before = self.leader.clone().unwrap_or_default();
        let member = &mut self.members[pos];
        member.answer_join(JoinResult::error(&old_id, GroupError::FencedInstanceId));
        member.answer_sync(super::types::SyncResult::error(
            GroupError::FencedInstanceId,
        ));
        let old_protocols = std::mem::replace(&mut member.protocols, args.protocols);
        let old_session_timeout = member.session_timeout;
        let old_rebalance_timeout = member.rebalance_timeout;
        member.id = new_id.clone();
        member.client_id = args.client_id;
        member.client_host = args.client_host;
        member.session_timeout = super::group::duration_ms(args.session_timeout_ms);
        member.rebalance_timeout = super::group::duration_ms(args.rebalance_timeout_ms);
        member.touch(now);
        member.awaiting_join = Some(reply);
        self.rename(&old_id, &new_id);
        tracing::info!(group = %self.id, old = %old_id, new = %new_id, "static member rejoined");
        match self.status {
            GroupStatus::Stable => {
                if self.protocol_name.is_some() && self.select_protocol() == self.protocol_name {
                    let is_leader = self.is_leader(&new_id);
                    let skip = is_leader && args.supports_skip_assignment;
                    let mut answer = self.join_result(&new_id, skip);
                    answer.skip_assignment = skip;
                    // Before v9 the old leader id is returned, so that a
                    // rejoining leader does not assign for a stable group.
                    if !args.supports_skip_assignment {
                        answer.leader = leader_before;
                    }
                    self.to_persist
                        .push_back(Persist::StaticRejoin(Box::new(StaticRejoin {
                            old_id,
                            new_id,
                            old_protocols,
                            old_session_timeout,
                            old_rebalance_timeout,
                            answer,
                        })));
                } else {
                    self.maybe_prepare_rebalance(now);
                }
            }
            // The leader may already have the old member id in hand: its
            // assignment would miss the new one.
            GroupStatus::CompletingRebalance => self.prepare_rebalance(now),
            GroupStatus::PreparingRebalance => {}
            GroupStatus::Empty | GroupStatus::Dead => {
                if let Some(pos) = self.position(&new_id) {
                    self.members[pos]
                        .answer_join(JoinResult::error("", GroupError::UnknownMemberId));
                }
            }
        }
    }
}
