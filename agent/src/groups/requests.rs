//! The requests of members other than JoinGroup (which has `join`):
//! SyncGroup, Heartbeat, LeaveGroup, and the checks of OffsetCommit,
//! DeleteGroups, OffsetDelete and DescribeGroups.

use std::collections::HashMap;

use bytes::Bytes;
use tokio::time::Instant;

use super::GroupError;
use super::group::{CONSUMER, Group, Persist};
use super::types::{
    DescribedMember, Description, GroupStatus, HeartbeatArgs, LeavingMember, SyncArgs, SyncResult,
};

impl Group {
    /// SyncGroup.
    pub fn sync(
        &mut self,
        now: Instant,
        args: SyncArgs,
        reply: tokio::sync::oneshot::Sender<SyncResult>,
    ) {
        if let Err(e) = self.validate_sync(&args) {
            let _ = reply.send(SyncResult::error(e));
            return;
        }
        let Some(pos) = self.position(&args.member_id) else {
            let _ = reply.send(SyncResult::error(GroupError::UnknownMemberId));
            return;
        };
        match self.status {
            GroupStatus::Empty => {
                let _ = reply.send(SyncResult::error(GroupError::UnknownMemberId));
            }
            GroupStatus::PreparingRebalance => {
                let _ = reply.send(SyncResult::error(GroupError::RebalanceInProgress));
            }
            GroupStatus::Dead => {
                let _ = reply.send(SyncResult::error(GroupError::CoordinatorNotAvailable));
            }
            GroupStatus::CompletingRebalance => {
                if let Some(old) = self.members[pos].awaiting_sync.replace(reply) {
                    let _ = old.send(SyncResult::error(GroupError::RebalanceInProgress));
                }
                self.synced(&args.member_id);
                if self.is_leader(&args.member_id) {
                    let mut assignment: HashMap<String, Bytes> =
                        args.assignments.into_iter().collect();
                    for m in &self.members {
                        assignment.entry(m.id.clone()).or_default();
                    }
                    self.to_persist.push_back(Persist::Assignment {
                        generation: self.generation,
                        assignment,
                    });
                }
            }
            GroupStatus::Stable => {
                self.synced(&args.member_id);
                let member = &mut self.members[pos];
                member.touch(now);
                let _ = reply.send(SyncResult {
                    error: None,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: member.assignment.clone(),
                });
            }
        }
    }

    fn validate_sync(&self, args: &SyncArgs) -> Result<(), GroupError> {
        if self.status == GroupStatus::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if self.is_fenced(args.group_instance_id.as_deref(), &args.member_id) {
            return Err(GroupError::FencedInstanceId);
        }
        if self.position(&args.member_id).is_none() {
            return Err(GroupError::UnknownMemberId);
        }
        if args.generation != self.generation {
            return Err(GroupError::IllegalGeneration);
        }
        let mismatch = |asked: &Option<String>, ours: &Option<String>| {
            asked.as_ref().is_some_and(|a| ours.as_ref() != Some(a))
        };
        if mismatch(&args.protocol_type, &self.protocol_type)
            || mismatch(&args.protocol_name, &self.protocol_name)
        {
            return Err(GroupError::InconsistentGroupProtocol);
        }
        Ok(())
    }

    fn synced(&mut self, member_id: &str) {
        self.pending_sync.remove(member_id);
        if self.pending_sync.is_empty() {
            self.sync_deadline = None;
        }
    }

    /// Heartbeat.
    pub fn heartbeat(&mut self, now: Instant, args: &HeartbeatArgs) -> Result<(), GroupError> {
        if self.status == GroupStatus::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        if self.is_fenced(args.group_instance_id.as_deref(), &args.member_id) {
            return Err(GroupError::FencedInstanceId);
        }
        let pos = self
            .position(&args.member_id)
            .ok_or(GroupError::UnknownMemberId)?;
        if args.generation != self.generation {
            return Err(GroupError::IllegalGeneration);
        }
        match self.status {
            GroupStatus::Empty | GroupStatus::Dead => Err(GroupError::UnknownMemberId),
            GroupStatus::CompletingRebalance | GroupStatus::Stable => {
                self.members[pos].touch(now);
                Ok(())
            }
            GroupStatus::PreparingRebalance => {
                self.members[pos].touch(now);
                Err(GroupError::RebalanceInProgress)
            }
        }
    }

    /// LeaveGroup: one result per leaving member.
    pub fn leave(
        &mut self,
        now: Instant,
        leaving: &[LeavingMember],
    ) -> Result<Vec<Result<(), GroupError>>, GroupError> {
        if self.status == GroupStatus::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        Ok(leaving
            .iter()
            .map(|l| {
                let instance = l.group_instance_id.as_deref();
                if l.member_id.is_empty() {
                    // Removal of a static member by instance id (admin).
                    let id = instance
                        .and_then(|i| self.static_member_id(i))
                        .ok_or(GroupError::UnknownMemberId)?;
                    self.remove_and_rebalance(now, &id);
                    Ok(())
                } else if self.pending.iter().any(|p| p.id == l.member_id) {
                    self.remove_pending(now, &l.member_id);
                    Ok(())
                } else if self.is_fenced(instance, &l.member_id) {
                    Err(GroupError::FencedInstanceId)
                } else if self.position(&l.member_id).is_some() {
                    self.remove_and_rebalance(now, &l.member_id);
                    Ok(())
                } else {
                    Err(GroupError::UnknownMemberId)
                }
            })
            .collect())
    }

    /// Checks an OffsetCommit. Returns whether it is a group member's
    /// commit (checked against the stored generation) rather than a
    /// simple consumer's.
    pub fn validate_commit(
        &mut self,
        now: Instant,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> Result<bool, GroupError> {
        if self.status == GroupStatus::Dead {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        let from_member = generation >= 0 || !member_id.is_empty() || instance_id.is_some();
        if !self.exists && self.members.is_empty() {
            // Kafka: a group it never heard of takes only simple commits.
            return if generation < 0 {
                Ok(false)
            } else {
                Err(GroupError::IllegalGeneration)
            };
        }
        if from_member {
            if self.is_fenced(instance_id, member_id) {
                return Err(GroupError::FencedInstanceId);
            }
            if self.position(member_id).is_none() {
                return Err(GroupError::UnknownMemberId);
            }
            if generation != self.generation {
                return Err(GroupError::IllegalGeneration);
            }
        } else if self.status != GroupStatus::Empty {
            // Only members may commit for a group that has members.
            return Err(GroupError::UnknownMemberId);
        }
        match self.status {
            GroupStatus::CompletingRebalance => Err(GroupError::RebalanceInProgress),
            GroupStatus::Stable | GroupStatus::PreparingRebalance => {
                if let Some(pos) = self.position(member_id) {
                    self.members[pos].touch(now);
                }
                Ok(true)
            }
            GroupStatus::Empty | GroupStatus::Dead => Ok(false),
        }
    }

    /// Records that a commit was stored.
    pub fn committed(&mut self) {
        self.exists = true;
    }

    /// Whether DeleteGroups may delete the group.
    pub fn check_delete(&self) -> Result<(), GroupError> {
        match self.status {
            GroupStatus::Dead => Err(GroupError::GroupIdNotFound),
            GroupStatus::Empty if self.members.is_empty() => Ok(()),
            _ => Err(GroupError::NonEmptyGroup),
        }
    }

    /// For OffsetDelete: per topic, whether a member subscribes to it (and
    /// its offsets must stay).
    pub fn check_offset_delete(&self, topics: &[String]) -> Result<Vec<bool>, GroupError> {
        if !self.exists || self.status == GroupStatus::Dead {
            return Err(GroupError::GroupIdNotFound);
        }
        if self.status == GroupStatus::Empty {
            return Ok(vec![false; topics.len()]);
        }
        if self.protocol_type.as_deref() != Some(CONSUMER) {
            return Err(GroupError::NonEmptyGroup);
        }
        Ok(topics.iter().map(|t| self.is_subscribed(t)).collect())
    }

    /// The group as DescribeGroups shows it.
    pub fn describe(&self) -> Description {
        if !self.exists {
            return Description {
                status: GroupStatus::Dead,
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            };
        }
        let stable = self.status == GroupStatus::Stable;
        let protocol = self.protocol_name.as_deref().filter(|_| stable);
        Description {
            status: self.status,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol: protocol.unwrap_or_default().to_string(),
            members: self
                .members
                .iter()
                .map(|m| DescribedMember {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: if stable {
                        m.metadata(protocol)
                    } else {
                        Bytes::new()
                    },
                    assignment: if stable {
                        m.assignment.clone()
                    } else {
                        Bytes::new()
                    },
                })
                .collect(),
        }
    }
}
