//! Routes group requests to the task of their group.
//!
//! A request is served only if this agent is the one FindCoordinator names
//! for the group (rendezvous hashing over the live agents); otherwise it
//! gets NOT_COORDINATOR and the client looks again. The first request for
//! a group not in memory loads it from the store and starts its task;
//! requests for the group that arrive meanwhile get
//! COORDINATOR_LOAD_IN_PROGRESS.
//!
//! Requests are queued to the group's task when they are admitted, in the
//! order of their connection, and answered when the task is done with
//! them (a JoinGroup may wait for a whole rebalance), so a waiting request
//! never holds up the connection's others.
//!
//! A housekeeping task unloads groups this agent no longer owns (so a
//! group that comes back later is loaded fresh) and expires the offsets of
//! long-empty groups.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use floe_metadata::{CommittedOffset, MetadataStore, TopicId};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::actor::{Command, GroupTask, ManyResults, Summary};
use super::group::Group;
use super::types::{
    CommitArgs, Description, FromGroupError, GroupStatus, HeartbeatArgs, JoinArgs, JoinResult,
    LeavingMember, Listed, OffsetToDelete, Pending, SyncArgs, SyncResult,
};
use super::{GroupError, GroupSettings};
use crate::cluster::registry::Registry;
use crate::cluster::routing::{AgentAddress, pick};

/// Commands queued per group before admission waits.
const QUEUE: usize = 256;

/// The routing key of the offset-expiry job: one agent runs it.
const EXPIRY_KEY: &[u8] = b"floe/group-offset-expiry";

/// The consumer-group coordinator of one agent.
#[derive(Debug)]
pub struct Coordinator {
    inner: Arc<Inner>,
    housekeeping: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn MetadataStore>,
    registry: Arc<Registry>,
    settings: GroupSettings,
    slots: Mutex<HashMap<String, Slot>>,
    tasks: Mutex<JoinSet<()>>,
    next_task: AtomicU64,
    stop: CancellationToken,
}

#[derive(Debug)]
enum Slot {
    Loading,
    Ready(Handle),
}

#[derive(Debug, Clone)]
struct Handle {
    task: u64,
    tx: mpsc::Sender<Command>,
    summary: Arc<Mutex<Summary>>,
}

impl Coordinator {
    /// A coordinator over `store`, with its housekeeping task running.
    pub fn start(
        store: Arc<dyn MetadataStore>,
        registry: Arc<Registry>,
        settings: GroupSettings,
    ) -> Self {
        let inner = Arc::new(Inner {
            store,
            registry,
            settings,
            slots: Mutex::default(),
            tasks: Mutex::default(),
            next_task: AtomicU64::new(0),
            stop: CancellationToken::new(),
        });
        let housekeeping = tokio::spawn(housekeeping(Arc::downgrade(&inner), inner.stop.clone()));
        Self {
            inner,
            housekeeping: Mutex::new(Some(housekeeping)),
        }
    }

    /// Stops every group task; requests still waiting (JoinGroup,
    /// SyncGroup) are answered NOT_COORDINATOR, so members move to the
    /// agent that takes over.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        let housekeeping = self.housekeeping.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = housekeeping {
            let _ = h.await;
        }
        let mut tasks = self
            .inner
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        while tasks.join_next().await.is_some() {}
    }

    /// The coordinator's settings.
    pub fn settings(&self) -> &GroupSettings {
        &self.inner.settings
    }

    /// Wall-clock time for commit timestamps, in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        (self.inner.settings.wall_clock_ms)()
    }

    /// JoinGroup.
    pub async fn join(&self, group_id: &str, args: JoinArgs) -> Pending<JoinResult> {
        self.submit(group_id, |tx| Command::Join(args, tx)).await
    }

    /// SyncGroup.
    pub async fn sync(&self, group_id: &str, args: SyncArgs) -> Pending<SyncResult> {
        self.submit(group_id, |tx| Command::Sync(args, tx)).await
    }

    /// Heartbeat.
    pub async fn heartbeat(
        &self,
        group_id: &str,
        args: HeartbeatArgs,
    ) -> Pending<Result<(), GroupError>> {
        self.submit(group_id, |tx| Command::Heartbeat(args, tx))
            .await
    }

    /// LeaveGroup.
    pub async fn leave(&self, group_id: &str, members: Vec<LeavingMember>) -> Pending<ManyResults> {
        self.submit(group_id, |tx| Command::Leave(members, tx))
            .await
    }

    /// OffsetCommit.
    pub async fn commit(
        &self,
        group_id: &str,
        args: CommitArgs,
    ) -> Pending<Result<(), GroupError>> {
        self.submit(group_id, |tx| Command::Commit(args, tx)).await
    }

    /// OffsetFetch: all of the group's offsets, or those of `partitions`.
    pub async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<Vec<(TopicId, i32)>>,
    ) -> Pending<Result<Vec<CommittedOffset>, GroupError>> {
        self.submit(group_id, |tx| Command::FetchOffsets(partitions, tx))
            .await
    }

    /// DescribeGroups, for one group.
    pub async fn describe(&self, group_id: &str) -> Pending<Result<Description, GroupError>> {
        self.submit(group_id, Command::Describe).await
    }

    /// DeleteGroups, for one group.
    pub async fn delete(&self, group_id: &str) -> Pending<Result<(), GroupError>> {
        self.submit(group_id, Command::Delete).await
    }

    /// OffsetDelete: one result per partition.
    pub async fn delete_offsets(
        &self,
        group_id: &str,
        partitions: Vec<OffsetToDelete>,
    ) -> Pending<ManyResults> {
        self.submit(group_id, |tx| Command::DeleteOffsets(partitions, tx))
            .await
    }

    /// ListGroups: the groups this agent coordinates, stored or in memory.
    pub async fn list(&self) -> Result<Vec<Listed>, GroupError> {
        if self.inner.stop.is_cancelled() {
            return Err(GroupError::CoordinatorNotAvailable);
        }
        let stored = self.inner.store.list_groups().await.map_err(|e| {
            warn!(error = %e, "cannot list groups");
            GroupError::CoordinatorNotAvailable
        })?;
        let owner = self.inner.owner();
        let mut out: BTreeMap<String, Listed> = stored
            .into_iter()
            .filter(|g| owner.owns(&g.group_id))
            .map(|g| {
                let listed = Listed {
                    group_id: g.group_id.clone(),
                    protocol_type: g.protocol_type.unwrap_or_default(),
                    // As Kafka loads them: a group with members is stable.
                    status: if g.has_members {
                        GroupStatus::Stable
                    } else {
                        GroupStatus::Empty
                    },
                };
                (g.group_id, listed)
            })
            .collect();
        let loaded: Vec<(String, Summary)> = self
            .inner
            .slots
            .lock()
            .map(|slots| {
                slots
                    .iter()
                    .filter_map(|(id, slot)| match slot {
                        Slot::Ready(h) => h.summary.lock().ok().map(|s| (id.clone(), s.clone())),
                        Slot::Loading => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (id, summary) in loaded {
            if !owner.owns(&id) {
                continue;
            }
            if summary.status == GroupStatus::Dead || !summary.exists {
                out.remove(&id);
                continue;
            }
            out.insert(
                id.clone(),
                Listed {
                    group_id: id,
                    protocol_type: summary.protocol_type.unwrap_or_default(),
                    status: summary.status,
                },
            );
        }
        Ok(out.into_values().collect())
    }

    /// Queues a command for the group's task (loading the group first if
    /// needed) and returns its answer to wait for.
    async fn submit<T: FromGroupError>(
        &self,
        group_id: &str,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Pending<T> {
        if self.inner.stop.is_cancelled() || !self.inner.owner().owns(group_id) {
            return Pending::ready(T::from_group_error(GroupError::NotCoordinator));
        }
        let (tx, rx) = oneshot::channel();
        let mut cmd = make(tx);
        // A task may stop between the lookup and the send; then the group
        // is loaded again.
        for _ in 0..3 {
            let handle = match self.handle(group_id).await {
                Ok(h) => h,
                Err(e) => return Pending::ready(T::from_group_error(e)),
            };
            match handle.tx.send(cmd).await {
                Ok(()) => return Pending::waiting(rx),
                Err(mpsc::error::SendError(back)) => {
                    self.inner.forget(group_id, handle.task);
                    cmd = back;
                }
            }
        }
        Pending::ready(T::from_group_error(GroupError::CoordinatorNotAvailable))
    }

    /// The task of a group, loading the group if it is not in memory.
    async fn handle(&self, group_id: &str) -> Result<Handle, GroupError> {
        {
            let mut slots = self
                .inner
                .slots
                .lock()
                .map_err(|_| GroupError::CoordinatorNotAvailable)?;
            match slots.get(group_id) {
                Some(Slot::Ready(h)) => return Ok(h.clone()),
                Some(Slot::Loading) => return Err(GroupError::LoadInProgress),
                None => {
                    slots.insert(group_id.to_string(), Slot::Loading);
                }
            }
        }
        // Loaded in its own task so the slot is settled even if the
        // request that started it goes away.
        let inner = self.inner.clone();
        let id = group_id.to_string();
        match tokio::spawn(async move { inner.load_and_start(id).await }).await {
            Ok(handle) => handle,
            Err(e) => {
                warn!(group = group_id, error = %e, "group load task failed");
                self.inner.clear_loading(group_id);
                Err(GroupError::CoordinatorNotAvailable)
            }
        }
    }
}

/// Who owns which group, as of one look at the live agents.
struct Owner {
    agents: Vec<AgentAddress>,
    me: i32,
}

impl Owner {
    fn owns(&self, key: &str) -> bool {
        self.owns_key(key.as_bytes())
    }

    fn owns_key(&self, key: &[u8]) -> bool {
        let all: Vec<&AgentAddress> = self.agents.iter().collect();
        pick(&all, key).is_some_and(|a| a.node_id == self.me)
    }
}

impl Inner {
    fn owner(&self) -> Owner {
        Owner {
            agents: self.registry.live(),
            me: self.registry.me().node_id,
        }
    }

    async fn load_and_start(self: Arc<Self>, group_id: String) -> Result<Handle, GroupError> {
        let loaded = self.load(&group_id).await;
        let (group, coordinator_epoch) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                warn!(group = %group_id, error = %e, "cannot load group");
                self.clear_loading(&group_id);
                return Err(GroupError::CoordinatorNotAvailable);
            }
        };
        let task = self.next_task.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE);
        let summary = Arc::new(Mutex::new(Summary::of(&group)));
        let handle = Handle {
            task,
            tx,
            summary: summary.clone(),
        };
        let weak: Weak<Inner> = Arc::downgrade(&self);
        let exit_id = group_id.clone();
        let runner = GroupTask {
            group,
            coordinator_epoch,
            group_id: group_id.clone(),
            rx,
            store: self.store.clone(),
            summary,
            stop: self.stop.clone(),
            idle_unload: self.settings.idle_unload,
            on_exit: Box::new(move || {
                if let Some(inner) = weak.upgrade() {
                    inner.forget(&exit_id, task);
                }
            }),
        };
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.spawn(runner.run());
        }
        if let Ok(mut slots) = self.slots.lock() {
            slots.insert(group_id, Slot::Ready(handle.clone()));
        }
        Ok(handle)
    }

    /// Claims the group (a new coordinator epoch, which fences the writes
    /// of any agent that coordinated it before) and then loads it, so what
    /// was written under an older epoch is seen.
    async fn load(&self, group_id: &str) -> floe_metadata::Result<(Group, i64)> {
        let settings = self.settings.clone();
        let epoch = self.store.claim_group(group_id).await?;
        let group = match self.store.load_group(group_id).await? {
            Some(state) => {
                info!(
                    group = group_id,
                    generation = state.generation,
                    members = state.members.len(),
                    coordinator_epoch = epoch,
                    "loaded group"
                );
                Group::from_stored(state, settings, Instant::now())
            }
            None => {
                let offsets = self.store.fetch_offsets(group_id, None).await?;
                Group::new(group_id, !offsets.is_empty(), settings)
            }
        };
        Ok((group, epoch))
    }

    /// Drops the slot of a group whose load failed.
    fn clear_loading(&self, group_id: &str) {
        if let Ok(mut slots) = self.slots.lock()
            && matches!(slots.get(group_id), Some(Slot::Loading))
        {
            slots.remove(group_id);
        }
    }

    /// Drops the slot of task `task`, if it is still the group's.
    fn forget(&self, group_id: &str, task: u64) {
        if let Ok(mut slots) = self.slots.lock()
            && matches!(slots.get(group_id), Some(Slot::Ready(h)) if h.task == task)
        {
            slots.remove(group_id);
        }
    }

    fn ready_handles(&self) -> Vec<(String, Handle)> {
        self.slots
            .lock()
            .map(|slots| {
                slots
                    .iter()
                    .filter_map(|(id, slot)| match slot {
                        Slot::Ready(h) => Some((id.clone(), h.clone())),
                        Slot::Loading => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Unloads groups owned by another agent now, reaps finished tasks, and
/// (on the one agent that owns the job) expires old offsets.
async fn housekeeping(inner: Weak<Inner>, stop: CancellationToken) {
    let (check, retention_check) = match inner.upgrade() {
        Some(i) => (
            i.settings.ownership_check_interval,
            i.settings.retention_check_interval,
        ),
        None => return,
    };
    let mut tick = tokio::time::interval(check);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_expiry = Instant::now() + retention_check;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Ok(mut tasks) = inner.tasks.lock() {
            while tasks.try_join_next().is_some() {}
        }
        let owner = inner.owner();
        for (id, handle) in inner.ready_handles() {
            if !owner.owns(&id) {
                let _ = handle.tx.try_send(Command::Unload);
            }
        }
        if Instant::now() >= next_expiry {
            next_expiry = Instant::now() + retention_check;
            if owner.owns_key(EXPIRY_KEY) {
                expire_offsets(&inner).await;
            }
        }
    }
}

async fn expire_offsets(inner: &Inner) {
    let retention = i64::try_from(inner.settings.offsets_retention.as_millis()).unwrap_or(i64::MAX);
    let older_than = (inner.settings.wall_clock_ms)().saturating_sub(retention);
    match inner.store.expire_groups(older_than).await {
        Ok(0) => {}
        Ok(n) => {
            info!(groups = n, "expired the offsets of empty groups");
            // Loaded empty groups may be among them: load them afresh.
            for (_, handle) in inner.ready_handles() {
                let _ = handle.tx.try_send(Command::UnloadIfIdle);
            }
        }
        Err(e) => warn!(error = %e, "cannot expire group offsets"),
    }
}

#[cfg(test)]
mod tests;
