//! The Postgres metadata store: for production and every deployment with
//! more than one agent.
//!
//! A segment commit is one call of the PL/pgSQL function
//! `floe_commit_segment` (`migrations/postgres/0002_commit_segment.sql`,
//! which replaced the versions of `0002` and `0004`): one round trip and one
//! transaction whatever the number of partitions and batches. It locks the
//! partitions it advances in a fixed order, so agents committing at the same
//! time queue on the rows they share and never deadlock. Transactions run at
//! READ COMMITTED; those row locks are what orders commits. The store tries
//! a commit once: the agent's flusher is the one layer that retries it
//! until its outcome is known. Other writes retry serialization failures
//! and deadlocks, which should not happen, here ([`with_retries`]), as their
//! callers do not. After a commit that appended something the store sends a `NOTIFY`,
//! which wakes the long-polling fetches of every agent
//! (`postgres/notifications.rs`).

mod acls;
mod agents;
mod archive;
mod broker_configs;
mod cleaner;
mod client_quotas;
mod commit;
mod compaction;
mod create_partitions;
mod delete_records;
mod groups;
mod index;
pub(crate) mod leases;
mod notifications;
mod partition_admin;
mod producers;
mod prune;
mod retention;
mod rows;
mod scram;
mod segments;
mod sweep;
#[cfg(test)]
mod tests;
mod topics;
mod transactions;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use crate::{
    AbortedTxn, AgentRecord, CleanSwap, CleanerPartition, CommitNotifications, CommittedOffset,
    CommittedSegment, CompactionCandidate, CompactionSwap, DeletedRecords, GroupListing,
    GroupState, IndexRow, JobFence, MetadataError, MetadataStore, NewTopic, OpenTxn, PartitionLag,
    PartitionOffsets, ProducerIdentity, ProducerState, Pruned, Result, Retained, RetentionPolicy,
    ScramCredential, SegmentCommit, SegmentId, SegmentRow, SwapOutcome, Topic, TopicId, TxnInit,
    TxnRecord, TxnRefusal, TxnVersion, UnreferencedSegment,
};

/// The schema, applied at connect. Concurrent agents may connect at once:
/// sqlx serialises migrations with an advisory lock.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per store for everything but commits; the machines have 2
/// cores.
const POOL_SIZE: u32 = 8;

/// Connections reserved for segment commits, so that reads (every
/// long-polling fetch asks the store) never make a commit wait for a
/// connection. An agent commits one segment at a time.
const COMMIT_POOL_SIZE: u32 = 2;

/// How long a pooled connection may sit idle and still be handed out
/// without a ping first. sqlx pings every connection it hands out by
/// default, one more round trip before every statement (a quarter of a
/// small commit's time on the test machines, a network round trip in
/// production); a connection in steady use is not checked, one that waited
/// longer (across a restart of the server, say) is. A connection that
/// fails while in use is dropped when returned (sqlx pings it then); the
/// flusher retries the commit that failed with it (commits are idempotent).
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Longest any statement may run on the server, waits for row locks
/// included. It bounds how long a commit attempt whose client gave up (or
/// whose connection died) can still go on, and so commit later than the
/// flusher believes: see `segment_gc_grace_ms` and the commit retry window
/// in the agent.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts of a transaction that fails with a serialization failure or a
/// deadlock before the error is returned.
const MAX_ATTEMPTS: u32 = 5;

/// The metadata store on a Postgres database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The connections of segment commits ([`COMMIT_POOL_SIZE`]).
    commit_pool: PgPool,
    /// Notifies listeners after commits; shared by the clones.
    notifier: Arc<notifications::Notifier>,
}

impl PostgresStore {
    /// Connects to the database named by `url` (`postgres://…` or
    /// `postgresql://…`; the database must exist) and applies any missing
    /// migrations.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        let statement_timeout = format!("{}ms", STATEMENT_TIMEOUT.as_millis());
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| MetadataError::Invalid(format!("bad postgres url: {e}")))?
            .application_name("floe")
            // The commit function relies on row locks, not on snapshots:
            // pin the level whatever the server's default. A commit is
            // acknowledged to producers, so it must be on disk before the
            // server answers, whatever the server's default: pin
            // synchronous_commit too. The statement timeout bounds attempts
            // abandoned by their client.
            .options([
                ("default_transaction_isolation", "read committed"),
                ("synchronous_commit", "on"),
                ("statement_timeout", statement_timeout.as_str()),
            ]);
        let pool = pool_options(POOL_SIZE)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let commit_pool = pool_options(COMMIT_POOL_SIZE).connect_lazy_with(options);
        let notifier = Arc::new(notifications::Notifier::start(pool.clone()));
        Ok(PostgresStore {
            pool,
            commit_pool,
            notifier,
        })
    }

    /// Closes every connection, waiting for them to finish. Later calls on
    /// this store (or its clones) fail.
    pub async fn close(&self) {
        self.commit_pool.close().await;
        self.pool.close().await;
    }
}

/// A pool of `size` connections, pinged before use only after sitting idle
/// ([`PING_IF_IDLE_FOR`]).
fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= PING_IF_IDLE_FOR {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Runs `attempt` until it succeeds, fails with an error retrying cannot
/// fix, or has failed [`MAX_ATTEMPTS`] times with a serialization failure
/// (SQLSTATE 40001) or a deadlock (40P01). Each attempt must be a whole
/// transaction, so that a failed one left nothing behind.
async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempts = 1;
    loop {
        match attempt().await {
            Err(MetadataError::Database(error))
                if attempts < MAX_ATTEMPTS && is_transient(&error) =>
            {
                tracing::warn!(%error, attempts, "{what}: transaction conflict, retrying");
                tokio::time::sleep(Duration::from_millis(5 << attempts)).await;
                attempts += 1;
            }
            result => return result,
        }
    }
}

/// Whether a database error is a serialization failure or a deadlock.
fn is_transient(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

#[async_trait]
impl MetadataStore for PostgresStore {
    async fn create_topic(&self, topic: NewTopic) -> Result<Topic> {
        topics::create(&self.pool, topic).await
    }

    async fn topic_by_name(&self, name: &str) -> Result<Option<Topic>> {
        topics::by_name(&self.pool, name).await
    }

    async fn topic_by_id(&self, id: TopicId) -> Result<Option<Topic>> {
        topics::by_id(&self.pool, id).await
    }

    async fn list_topics(&self) -> Result<Vec<Topic>> {
        topics::list(&self.pool).await
    }

    async fn delete_topic(&self, id: TopicId) -> Result<()> {
        with_retries("delete topic", || topics::delete(&self.pool, id)).await
    }

    async fn create_partitions(&self, id: TopicId, count: i32) -> Result<Topic> {
        create_partitions::create(&self.pool, id, count).await
    }

    async fn delete_records(
        &self,
        topic: TopicId,
        partition: i32,
        before_offset: i64,
    ) -> Result<DeletedRecords> {
        delete_records::delete(&self.pool, topic, partition, before_offset).await
    }

    async fn partition_sizes(&self, topic: TopicId) -> Result<Vec<(i32, i64)>> {
        partition_admin::sizes(&self.pool, topic).await
    }

    async fn partition_producers(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Vec<ProducerState>> {
        partition_admin::producers(&self.pool, topic, partition).await
    }

    async fn set_topic_config(
        &self,
        id: TopicId,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        with_retries("set topic config", || {
            topics::set_config(&self.pool, id, config)
        })
        .await
    }

    async fn broker_configs(&self) -> Result<std::collections::BTreeMap<String, String>> {
        with_retries("read broker configs", || broker_configs::all(&self.pool)).await
    }

    async fn set_broker_configs(
        &self,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        with_retries("set broker configs", || {
            broker_configs::replace(&self.pool, config)
        })
        .await
    }

    async fn client_quotas(&self) -> Result<Vec<crate::ClientQuota>> {
        with_retries("read client quotas", || client_quotas::all(&self.pool)).await
    }

    async fn alter_client_quotas(
        &self,
        alterations: &[crate::ClientQuotaAlteration],
    ) -> Result<()> {
        with_retries("alter client quotas", || {
            client_quotas::alter(&self.pool, alterations)
        })
        .await
    }

    async fn acl_version(&self) -> Result<i64> {
        acls::version(&self.pool).await
    }

    async fn acls(&self) -> Result<(i64, Vec<crate::AclBinding>)> {
        acls::all(&self.pool).await
    }

    async fn create_acls(&self, bindings: &[crate::AclBinding]) -> Result<()> {
        acls::create(&self.pool, bindings).await
    }

    async fn describe_acls(
        &self,
        filter: &crate::AclBindingFilter,
    ) -> Result<Vec<crate::AclBinding>> {
        acls::describe(&self.pool, filter).await
    }

    async fn delete_acls(
        &self,
        filters: &[crate::AclBindingFilter],
    ) -> Result<Vec<Vec<crate::AclBinding>>> {
        acls::delete(&self.pool, filters).await
    }

    async fn commit_segment_reporting(&self, commit: &SegmentCommit) -> Result<CommittedSegment> {
        let committed = commit::commit_segment(&self.commit_pool, commit).await?;
        if committed.notify {
            self.notifier.committed(commit.segment_id);
        }
        Ok(CommittedSegment {
            outcomes: committed.outcomes,
            log_start_offsets: committed.log_start_offsets,
        })
    }

    async fn partition_offsets(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<PartitionOffsets>> {
        index::partition_offsets(&self.pool, topic, partition).await
    }

    async fn partitions_offsets(
        &self,
        partitions: &[(TopicId, i32)],
    ) -> Result<Vec<Option<PartitionOffsets>>> {
        index::partitions_offsets(&self.pool, partitions).await
    }

    async fn index_rows(
        &self,
        topic: TopicId,
        partition: i32,
        from_offset: i64,
        limit: u32,
    ) -> Result<Vec<IndexRow>> {
        index::rows_from(&self.pool, topic, partition, from_offset, limit).await
    }

    async fn first_row_with_timestamp_at_least(
        &self,
        topic: TopicId,
        partition: i32,
        timestamp: i64,
        from_offset: i64,
    ) -> Result<Option<IndexRow>> {
        index::first_row_with_timestamp_at_least(
            &self.pool,
            topic,
            partition,
            timestamp,
            from_offset,
        )
        .await
    }

    async fn row_with_max_timestamp(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<IndexRow>> {
        index::row_with_max_timestamp(&self.pool, topic, partition).await
    }

    async fn init_producer_id(&self, transactional_id: Option<&str>) -> Result<ProducerIdentity> {
        with_retries("init producer id", || {
            producers::init_producer_id(&self.pool, transactional_id)
        })
        .await
    }

    async fn register_agent(
        &self,
        host: &str,
        port: i32,
        zone: Option<&str>,
        listeners: &str,
    ) -> Result<i32> {
        agents::register(&self.pool, host, port, zone, listeners).await
    }

    async fn scram_credentials(&self, user: Option<&str>) -> Result<Vec<ScramCredential>> {
        with_retries("read scram credentials", || scram::list(&self.pool, user)).await
    }

    async fn upsert_scram_credential(&self, credential: &ScramCredential) -> Result<()> {
        with_retries("store scram credential", || {
            scram::upsert(&self.pool, credential)
        })
        .await
    }

    async fn delete_scram_credential(&self, user: &str, mechanism: Option<&str>) -> Result<u64> {
        with_retries("delete scram credential", || {
            scram::delete(&self.pool, user, mechanism)
        })
        .await
    }

    async fn heartbeat_agent(&self, node_id: i32) -> Result<bool> {
        agents::heartbeat(&self.pool, node_id).await
    }

    async fn live_agents(&self, max_age: Duration) -> Result<Vec<AgentRecord>> {
        agents::live(&self.pool, max_age).await
    }

    async fn deregister_agent(&self, node_id: i32) -> Result<()> {
        agents::deregister(&self.pool, node_id).await
    }

    /// A stream on its own connection; see `postgres/notifications.rs`.
    /// Fails if that connection cannot be made; once made, the stream
    /// outlives failures of the server, connecting again in the background,
    /// and ends when the store is closed or dropped (with all its clones).
    async fn commit_notifications(&self) -> Result<Option<CommitNotifications>> {
        notifications::subscribe(&self.pool, notifications::Reconnect::DEFAULT)
            .await
            .map(Some)
    }

    async fn load_group(&self, group_id: &str) -> Result<Option<GroupState>> {
        groups::load(&self.pool, group_id).await
    }

    async fn claim_group(&self, group_id: &str) -> Result<i64> {
        groups::claim(&self.pool, group_id).await
    }

    async fn store_group(
        &self,
        state: &GroupState,
        expected_generation: Option<i32>,
        coordinator_epoch: i64,
    ) -> Result<bool> {
        with_retries("store group", || {
            groups::store(&self.pool, state, expected_generation, coordinator_epoch)
        })
        .await
    }

    async fn delete_group(&self, group_id: &str) -> Result<bool> {
        with_retries("delete group", || groups::delete(&self.pool, group_id)).await
    }

    async fn list_groups(&self) -> Result<Vec<GroupListing>> {
        groups::list(&self.pool).await
    }

    async fn commit_offsets(
        &self,
        group_id: &str,
        expected_generation: Option<i32>,
        offsets: &[CommittedOffset],
        coordinator_epoch: i64,
    ) -> Result<bool> {
        with_retries("commit offsets", || {
            groups::commit_offsets(
                &self.pool,
                group_id,
                expected_generation,
                offsets,
                coordinator_epoch,
            )
        })
        .await
    }

    async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[(TopicId, i32)]>,
    ) -> Result<Vec<CommittedOffset>> {
        groups::fetch_offsets(&self.pool, group_id, partitions).await
    }

    async fn commit_archive(
        &self,
        commit: &crate::ArchiveCommit,
        fence: &JobFence,
    ) -> Result<crate::ArchiveOutcome> {
        archive::commit(&self.pool, commit, fence).await
    }

    async fn archive_progress(&self, topic: TopicId) -> Result<Vec<(i32, i64)>> {
        archive::progress(&self.pool, topic).await
    }

    async fn archive_manifests(&self, topic: TopicId) -> Result<Vec<crate::ArchiveManifest>> {
        archive::manifests(&self.pool, topic).await
    }

    async fn apply_retention(
        &self,
        topic: TopicId,
        partition: i32,
        policy: &RetentionPolicy,
        fence: &JobFence,
    ) -> Result<Option<Retained>> {
        retention::apply(&self.pool, topic, partition, policy, fence).await
    }

    async fn unreferenced_segments(
        &self,
        grace: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<UnreferencedSegment>> {
        segments::unreferenced(&self.pool, grace, limit).await
    }

    async fn sweep_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<Vec<SegmentId>> {
        sweep::sweep(&self.pool, ids, fence).await
    }

    async fn compaction_candidates(
        &self,
        level: i32,
        max_size: u64,
        limit: u32,
    ) -> Result<Vec<CompactionCandidate>> {
        compaction::candidates(&self.pool, level, max_size, limit).await
    }

    async fn segment_rows(&self, segments: &[SegmentId], limit: u32) -> Result<Vec<SegmentRow>> {
        compaction::segment_rows(&self.pool, segments, limit).await
    }

    async fn swap_compacted(&self, swap: &CompactionSwap, fence: &JobFence) -> Result<SwapOutcome> {
        compaction::swap(&self.pool, swap, fence).await
    }

    async fn cleaner_partitions(&self, topic: TopicId) -> Result<Vec<CleanerPartition>> {
        cleaner::partitions(&self.pool, topic).await
    }

    async fn swap_cleaned(&self, swap: &CleanSwap, fence: &JobFence) -> Result<bool> {
        cleaner::swap(&self.pool, swap, fence).await
    }

    async fn forget_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<u64> {
        segments::forget(&self.pool, ids, fence).await
    }

    async fn prune(
        &self,
        outcomes_after: Duration,
        producers_after: Duration,
        limit: u32,
        fence: &JobFence,
    ) -> Result<Pruned> {
        prune::prune(&self.pool, outcomes_after, producers_after, limit, fence).await
    }

    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
        every: Duration,
    ) -> Result<Option<JobFence>> {
        leases::acquire(&self.pool, job, holder, ttl, every).await
    }

    async fn release_lease(&self, fence: &JobFence, finished: bool) -> Result<()> {
        leases::release(&self.pool, fence, finished).await
    }

    async fn group_lag(&self, group_id: &str) -> Result<Vec<PartitionLag>> {
        groups::group_lag(&self.pool, group_id).await
    }

    async fn delete_offsets(&self, group_id: &str, partitions: &[(TopicId, i32)]) -> Result<()> {
        with_retries("delete offsets", || {
            groups::delete_offsets(&self.pool, group_id, partitions)
        })
        .await
    }

    async fn expire_groups(&self, older_than_ms: i64) -> Result<u64> {
        with_retries("expire groups", || {
            groups::expire(&self.pool, older_than_ms)
        })
        .await
    }

    async fn transaction(&self, transactional_id: &str) -> Result<Option<TxnRecord>> {
        transactions::transaction(&self.pool, transactional_id).await
    }

    async fn list_transactions(&self, after: &str, limit: u32) -> Result<Vec<TxnRecord>> {
        transactions::list_transactions(&self.pool, after, limit).await
    }

    async fn init_transaction(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        now_ms: i64,
    ) -> Result<TxnInit> {
        transactions::init_transaction(&self.pool, transactional_id, timeout_ms, now_ms).await
    }

    async fn add_to_transaction(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(TopicId, i32)],
        groups: &[String],
        now_ms: i64,
    ) -> Result<std::result::Result<bool, TxnRefusal>> {
        transactions::add_to_transaction(
            &self.pool,
            transactional_id,
            producer_id,
            epoch,
            partitions,
            groups,
            now_ms,
        )
        .await
    }

    async fn txn_commit_offsets(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        group_id: &str,
        offsets: &[CommittedOffset],
    ) -> Result<std::result::Result<(), TxnRefusal>> {
        transactions::txn_commit_offsets(
            &self.pool,
            transactional_id,
            producer_id,
            epoch,
            group_id,
            offsets,
        )
        .await
    }

    async fn prepare_transaction(
        &self,
        transactional_id: &str,
        expected: TxnVersion,
        commit: bool,
        epoch: i16,
        now_ms: i64,
    ) -> Result<Option<TxnRecord>> {
        transactions::prepare_transaction(
            &self.pool,
            transactional_id,
            expected,
            commit,
            epoch,
            now_ms,
        )
        .await
    }

    async fn complete_transaction(
        &self,
        transactional_id: &str,
        expected: TxnVersion,
        now_ms: i64,
    ) -> Result<bool> {
        transactions::complete_transaction(&self.pool, transactional_id, expected, now_ms).await
    }

    async fn aborted_transactions(
        &self,
        topic: TopicId,
        partition: i32,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<AbortedTxn>> {
        transactions::aborted_transactions(&self.pool, topic, partition, from, to, limit).await
    }

    async fn open_transactions(&self, topic: TopicId, partition: i32) -> Result<Vec<OpenTxn>> {
        transactions::open_transactions(&self.pool, topic, partition).await
    }

    async fn pending_txn_offsets(&self, group_id: &str) -> Result<Vec<(TopicId, i32)>> {
        transactions::pending_txn_offsets(&self.pool, group_id).await
    }

    async fn expire_transactional_ids(&self, older_than_ms: i64, limit: u32) -> Result<u64> {
        transactions::expire_transactional_ids(&self.pool, older_than_ms, limit).await
    }
}
