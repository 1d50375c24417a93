//! The task that owns one loaded group: it takes the group's requests in
//! the order connections admitted them, runs its timers, and performs its
//! store writes one at a time, so the state machine never races itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use floe_metadata::{CommittedOffset, MetadataStore, TopicId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::GroupError;
use super::group::{Group, PersistOutcome};
use super::types::{
    CommitArgs, Description, GroupStatus, HeartbeatArgs, JoinArgs, JoinResult, LeavingMember,
    OffsetToDelete, SyncArgs, SyncResult,
};

/// Requests handled in a row before due timers run anyway.
const MAX_REQUESTS_BETWEEN_TIMERS: usize = 64;

/// Per-member results of a LeaveGroup or OffsetDelete, or one error for all.
pub(crate) type ManyResults = Result<Vec<Result<(), GroupError>>, GroupError>;

/// A request for a group's task.
#[derive(Debug)]
pub(crate) enum Command {
    Join(JoinArgs, oneshot::Sender<JoinResult>),
    Sync(SyncArgs, oneshot::Sender<SyncResult>),
    Heartbeat(HeartbeatArgs, oneshot::Sender<Result<(), GroupError>>),
    Leave(Vec<LeavingMember>, oneshot::Sender<ManyResults>),
    Commit(CommitArgs, oneshot::Sender<Result<(), GroupError>>),
    FetchOffsets(
        Option<Vec<(TopicId, i32)>>,
        oneshot::Sender<Result<Vec<CommittedOffset>, GroupError>>,
    ),
    Describe(oneshot::Sender<Result<Description, GroupError>>),
    Delete(oneshot::Sender<Result<(), GroupError>>),
    DeleteOffsets(Vec<OffsetToDelete>, oneshot::Sender<ManyResults>),
    /// Another agent owns the group now: leave memory.
    Unload,
    /// Leave memory if that loses nothing (after offsets expired).
    UnloadIfIdle,
}

impl Command {
    /// Answers the command with `error` without running it.
    fn fail(self, error: GroupError) {
        match self {
            Self::Join(_, tx) => {
                let _ = tx.send(JoinResult::error("", error));
            }
            Self::Sync(_, tx) => {
                let _ = tx.send(SyncResult::error(error));
            }
            Self::Heartbeat(_, tx) | Self::Commit(_, tx) | Self::Delete(tx) => {
                let _ = tx.send(Err(error));
            }
            Self::Leave(_, tx) | Self::DeleteOffsets(_, tx) => {
                let _ = tx.send(Err(error));
            }
            Self::FetchOffsets(_, tx) => {
                let _ = tx.send(Err(error));
            }
            Self::Describe(tx) => {
                let _ = tx.send(Err(error));
            }
            Self::Unload | Self::UnloadIfIdle => {}
        }
    }
}

/// What ListGroups needs to know of a loaded group.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    pub status: GroupStatus,
    pub protocol_type: Option<String>,
    pub exists: bool,
}

impl Summary {
    pub fn of(group: &Group) -> Self {
        Self {
            status: group.status(),
            protocol_type: group.protocol_type().map(str::to_string),
            exists: group.exists(),
        }
    }
}

/// The task of one group.
pub(crate) struct GroupTask {
    pub group: Group,
    /// The epoch this agent claimed the group with: every write carries it,
    /// and the store refuses it once another agent claimed the group.
    pub coordinator_epoch: i64,
    pub group_id: String,
    pub rx: mpsc::Receiver<Command>,
    pub store: Arc<dyn MetadataStore>,
    pub summary: Arc<Mutex<Summary>>,
    pub stop: CancellationToken,
    pub idle_unload: Duration,
    /// Called once the task stops taking commands.
    pub on_exit: Box<dyn FnOnce() + Send>,
}

impl std::fmt::Debug for GroupTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupTask")
            .field("group_id", &self.group_id)
            .finish_non_exhaustive()
    }
}

impl GroupTask {
    /// Serves the group until it is unloaded, deleted, taken over by
    /// another agent, idle for long, or the agent stops.
    pub async fn run(mut self) {
        let mut last_activity = Instant::now();
        let mut since_tick = 0usize;
        loop {
            let wake = self.group.next_deadline();
            let idle_at = self
                .group
                .is_idle()
                .then(|| last_activity + self.idle_unload);
            tokio::select! {
                biased;
                () = self.stop.cancelled() => break,
                cmd = self.rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    last_activity = Instant::now();
                    if !self.handle(cmd).await {
                        break;
                    }
                }
                () = sleep_until_some(wake) => {}
                () = sleep_until_some(idle_at) => {
                    debug!(group = %self.group_id, "unloading idle group");
                    break;
                }
            }
            // Timers run once the queued requests are handled (a queued
            // heartbeat must count before its sender's session is judged),
            // or after a long run of requests, so a steady stream cannot
            // starve them.
            let now = Instant::now();
            since_tick += 1;
            if self.group.next_deadline().is_some_and(|d| d <= now)
                && (self.rx.is_empty() || since_tick >= MAX_REQUESTS_BETWEEN_TIMERS)
            {
                self.group.tick(now);
                since_tick = 0;
            }
            self.persist_all().await;
            if let Ok(mut s) = self.summary.lock() {
                *s = Summary::of(&self.group);
            }
            if self.group.status() == GroupStatus::Dead {
                break;
            }
        }
        self.rx.close();
        (self.on_exit)();
        while let Ok(cmd) = self.rx.try_recv() {
            cmd.fail(GroupError::NotCoordinator);
        }
        self.group.kill(GroupError::NotCoordinator);
    }

    /// Runs one command; false if the task must stop.
    async fn handle(&mut self, cmd: Command) -> bool {
        let now = Instant::now();
        match cmd {
            Command::Join(args, reply) => self.group.join(now, args, reply),
            Command::Sync(args, reply) => self.group.sync(now, args, reply),
            Command::Heartbeat(args, reply) => {
                let _ = reply.send(self.group.heartbeat(now, &args));
            }
            Command::Leave(members, reply) => {
                let _ = reply.send(self.group.leave(now, &members));
            }
            Command::Commit(args, reply) => {
                let result = self.commit(now, args).await;
                let _ = reply.send(result);
            }
            Command::FetchOffsets(partitions, reply) => {
                let result = self
                    .store
                    .fetch_offsets(&self.group_id, partitions.as_deref())
                    .await
                    .map_err(|e| {
                        warn!(group = %self.group_id, error = %e, "cannot fetch offsets");
                        GroupError::CoordinatorNotAvailable
                    });
                let _ = reply.send(result);
            }
            Command::Describe(reply) => {
                let _ = reply.send(Ok(self.group.describe()));
            }
            Command::Delete(reply) => {
                let result = self.delete().await;
                let _ = reply.send(result);
            }
            Command::DeleteOffsets(partitions, reply) => {
                let result = self.delete_offsets(partitions).await;
                let _ = reply.send(result);
            }
            Command::Unload => {
                info!(group = %self.group_id, "another agent coordinates the group now");
                return false;
            }
            Command::UnloadIfIdle => return !self.group.is_idle(),
        }
        true
    }

    async fn commit(&mut self, now: Instant, args: CommitArgs) -> Result<(), GroupError> {
        let from_member = self.group.validate_commit(
            now,
            &args.member_id,
            args.group_instance_id.as_deref(),
            args.generation,
        )?;
        if args.offsets.is_empty() {
            return Ok(());
        }
        let expected = if from_member {
            self.group.persisted_generation()
        } else {
            None
        };
        match self
            .store
            .commit_offsets(
                &self.group_id,
                expected,
                &args.offsets,
                self.coordinator_epoch,
            )
            .await
        {
            Ok(true) => {
                self.group.committed();
                Ok(())
            }
            Ok(false) => {
                warn!(group = %self.group_id, ?expected, epoch = self.coordinator_epoch,
                    "stored generation moved on or another agent took the group over; dropping it");
                self.group.kill(GroupError::NotCoordinator);
                Err(GroupError::NotCoordinator)
            }
            Err(e) => {
                warn!(group = %self.group_id, error = %e, "cannot commit offsets");
                Err(GroupError::CoordinatorNotAvailable)
            }
        }
    }

    async fn delete(&mut self) -> Result<(), GroupError> {
        self.group.check_delete()?;
        let deleted = self.store.delete_group(&self.group_id).await.map_err(|e| {
            warn!(group = %self.group_id, error = %e, "cannot delete group");
            GroupError::CoordinatorNotAvailable
        })?;
        // Either way nothing of the group is left: forget it.
        self.group.kill(GroupError::CoordinatorNotAvailable);
        if deleted {
            info!(group = %self.group_id, "deleted group");
            Ok(())
        } else {
            Err(GroupError::GroupIdNotFound)
        }
    }

    async fn delete_offsets(&mut self, partitions: Vec<OffsetToDelete>) -> ManyResults {
        let topics: Vec<String> = partitions.iter().map(|p| p.topic.clone()).collect();
        let subscribed = self.group.check_offset_delete(&topics)?;
        let eligible: Vec<(TopicId, i32)> = partitions
            .iter()
            .zip(&subscribed)
            .filter(|(_, s)| !**s)
            .map(|(p, _)| (p.topic_id, p.partition))
            .collect();
        if !eligible.is_empty() {
            self.store
                .delete_offsets(&self.group_id, &eligible)
                .await
                .map_err(|e| {
                    warn!(group = %self.group_id, error = %e, "cannot delete offsets");
                    GroupError::CoordinatorNotAvailable
                })?;
        }
        Ok(subscribed
            .into_iter()
            .map(|s| {
                if s {
                    Err(GroupError::GroupSubscribedToTopic)
                } else {
                    Ok(())
                }
            })
            .collect())
    }

    /// Performs the group's queued store writes, in order.
    async fn persist_all(&mut self) {
        while let Some(persist) = self.group.next_persist() {
            let state = self.group.snapshot(&persist);
            let expected = self.group.persisted_generation();
            let outcome = match self
                .store
                .store_group(&state, expected, self.coordinator_epoch)
                .await
            {
                Ok(true) => {
                    debug!(group = %self.group_id, generation = state.generation, "stored group");
                    PersistOutcome::Stored
                }
                Ok(false) => {
                    warn!(group = %self.group_id, ?expected, epoch = self.coordinator_epoch,
                        "stored generation moved on or another agent took the group over; dropping it");
                    PersistOutcome::Conflict
                }
                Err(e) => {
                    warn!(group = %self.group_id, error = %e, "cannot store group");
                    PersistOutcome::Failed
                }
            };
            self.group.persisted(Instant::now(), persist, outcome);
        }
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
