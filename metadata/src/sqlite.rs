//! The SQLite metadata store: the embedded default for a single agent, with
//! no server to install.
//!
//! SQLite has one writer at a time. Every write transaction here first takes
//! the store's writer lock (so writers of this process queue in turn instead
//! of spinning on `SQLITE_BUSY`) and then starts with `BEGIN IMMEDIATE` (so
//! the database write lock is taken up front, not upgraded half-way through,
//! which could fail with `SQLITE_BUSY` if another process held it). Reads run
//! beside the writer on the other connections of the pool.

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
mod params;
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

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::{
    AbortedTxn, AgentRecord, CleanSwap, CleanerPartition, CommitNotifications, CommittedOffset,
    CommittedSegment, CompactionCandidate, CompactionSwap, DeletedRecords, GroupListing,
    GroupState, IndexRow, JobFence, MetadataError, MetadataStore, NewTopic, OpenTxn, PartitionLag,
    PartitionOffsets, ProducerIdentity, ProducerState, Pruned, Result, Retained, RetentionPolicy,
    ScramCredential, SegmentCommit, SegmentId, SegmentRow, SwapOutcome, Topic, TopicId, TxnInit,
    TxnRecord, TxnRefusal, TxnVersion, UnreferencedSegment,
};

/// The schema, applied at connect.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a statement waits for a lock held by another process before it
/// fails with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections of a file database's pool: one writer at a time, and a few
/// readers beside it (the machines have 2 cores).
const FILE_POOL_SIZE: u32 = 4;

/// The metadata store on a SQLite database, a file or in memory.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Held for the whole of every write transaction.
    writer: Arc<Mutex<()>>,
}

/// A write transaction and the writer lock it holds. The fields drop in
/// order: the transaction (rolled back unless committed) before the lock.
struct WriteTx<'a> {
    tx: Transaction<'static, Sqlite>,
    _turn: MutexGuard<'a, ()>,
}

impl WriteTx<'_> {
    /// Commits the transaction, then releases the writer lock.
    async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl SqliteStore {
    /// Opens the database named by `url` and applies any missing migrations.
    ///
    /// `sqlite://PATH` opens a file, creating it if missing; `sqlite::memory:`
    /// opens a private in-memory database that lives as long as the store.
    pub async fn connect(url: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| MetadataError::Invalid(format!("bad sqlite url {url}: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = if is_in_memory(url) {
            // An in-memory database lives only as long as a connection to it:
            // keep exactly one, forever, and let every query share it.
            SqlitePoolOptions::new()
                .min_connections(1)
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            // Durability: an acknowledged produce must survive a power cut.
            // With WAL and synchronous=FULL every commit fsyncs the WAL before
            // it returns (NORMAL would only sync at checkpoints, and a power
            // cut could lose the last commits).
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            SqlitePoolOptions::new()
                .max_connections(FILE_POOL_SIZE)
                .connect_with(options)
                .await?
        };
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore {
            pool,
            writer: Arc::new(Mutex::new(())),
        })
    }

    /// Closes every connection, waiting for them to finish. Later calls on
    /// this store (or its clones) fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Waits for this store's turn to write, then begins an immediate
    /// transaction.
    async fn begin_write(&self) -> Result<WriteTx<'_>> {
        let turn = self.writer.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _turn: turn })
    }
}

/// Whether a SQLite URL names an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn create_topic(&self, topic: NewTopic) -> Result<Topic> {
        topics::create(self, topic).await
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
        topics::delete(self, id).await
    }

    async fn create_partitions(&self, id: TopicId, count: i32) -> Result<Topic> {
        create_partitions::create(self, id, count).await
    }

    async fn delete_records(
        &self,
        topic: TopicId,
        partition: i32,
        before_offset: i64,
    ) -> Result<DeletedRecords> {
        delete_records::delete(self, topic, partition, before_offset).await
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
        topics::set_config(self, id, config).await
    }

    async fn broker_configs(&self) -> Result<std::collections::BTreeMap<String, String>> {
        broker_configs::all(&self.pool).await
    }

    async fn set_broker_configs(
        &self,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        broker_configs::replace(self, config).await
    }

    async fn client_quotas(&self) -> Result<Vec<crate::ClientQuota>> {
        client_quotas::all(&self.pool).await
    }

    async fn alter_client_quotas(
        &self,
        alterations: &[crate::ClientQuotaAlteration],
    ) -> Result<()> {
        client_quotas::alter(self, alterations).await
    }

    async fn acl_version(&self) -> Result<i64> {
        acls::version(&self.pool).await
    }

    async fn acls(&self) -> Result<(i64, Vec<crate::AclBinding>)> {
        acls::all(&self.pool).await
    }

    async fn create_acls(&self, bindings: &[crate::AclBinding]) -> Result<()> {
        acls::create(self, bindings).await
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
        acls::delete(self, filters).await
    }

    async fn commit_segment_reporting(&self, commit: &SegmentCommit) -> Result<CommittedSegment> {
        commit::commit_segment(self, commit).await
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
        producers::init_producer_id(self, transactional_id).await
    }

    async fn register_agent(
        &self,
        host: &str,
        port: i32,
        zone: Option<&str>,
        listeners: &str,
    ) -> Result<i32> {
        agents::register(self, host, port, zone, listeners).await
    }

    async fn scram_credentials(&self, user: Option<&str>) -> Result<Vec<ScramCredential>> {
        scram::list(&self.pool, user).await
    }

    async fn upsert_scram_credential(&self, credential: &ScramCredential) -> Result<()> {
        scram::upsert(self, credential).await
    }

    async fn delete_scram_credential(&self, user: &str, mechanism: Option<&str>) -> Result<u64> {
        scram::delete(self, user, mechanism).await
    }

    async fn heartbeat_agent(&self, node_id: i32) -> Result<bool> {
        agents::heartbeat(self, node_id).await
    }

    async fn live_agents(&self, max_age: Duration) -> Result<Vec<AgentRecord>> {
        agents::live(&self.pool, max_age).await
    }

    async fn deregister_agent(&self, node_id: i32) -> Result<()> {
        agents::deregister(self, node_id).await
    }

    /// None: a SQLite database has one agent, whose own commits wake its
    /// fetches.
    async fn commit_notifications(&self) -> Result<Option<CommitNotifications>> {
        Ok(None)
    }

    async fn load_group(&self, group_id: &str) -> Result<Option<GroupState>> {
        groups::load(&self.pool, group_id).await
    }

    async fn claim_group(&self, group_id: &str) -> Result<i64> {
        groups::claim(self, group_id).await
    }

    async fn store_group(
        &self,
        state: &GroupState,
        expected_generation: Option<i32>,
        coordinator_epoch: i64,
    ) -> Result<bool> {
        groups::store(self, state, expected_generation, coordinator_epoch).await
    }

    async fn delete_group(&self, group_id: &str) -> Result<bool> {
        groups::delete(self, group_id).await
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
        groups::commit_offsets(
            self,
            group_id,
            expected_generation,
            offsets,
            coordinator_epoch,
        )
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
        archive::commit(self, commit, fence).await
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
        retention::apply(self, topic, partition, policy, fence).await
    }

    async fn unreferenced_segments(
        &self,
        grace: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<UnreferencedSegment>> {
        segments::unreferenced(self, grace, limit).await
    }

    async fn sweep_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<Vec<SegmentId>> {
        sweep::sweep(self, ids, fence).await
    }

    async fn compaction_candidates(
        &self,
        level: i32,
        max_size: u64,
        limit: u32,
    ) -> Result<Vec<CompactionCandidate>> {
        compaction::candidates(self, level, max_size, limit).await
    }

    async fn segment_rows(&self, segments: &[SegmentId], limit: u32) -> Result<Vec<SegmentRow>> {
        compaction::segment_rows(self, segments, limit).await
    }

    async fn swap_compacted(&self, swap: &CompactionSwap, fence: &JobFence) -> Result<SwapOutcome> {
        compaction::swap(self, swap, fence).await
    }

    async fn cleaner_partitions(&self, topic: TopicId) -> Result<Vec<CleanerPartition>> {
        cleaner::partitions(self, topic).await
    }

    async fn swap_cleaned(&self, swap: &CleanSwap, fence: &JobFence) -> Result<bool> {
        cleaner::swap(self, swap, fence).await
    }

    async fn forget_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<u64> {
        segments::forget(self, ids, fence).await
    }

    async fn prune(
        &self,
        outcomes_after: Duration,
        producers_after: Duration,
        limit: u32,
        fence: &JobFence,
    ) -> Result<Pruned> {
        prune::prune(self, outcomes_after, producers_after, limit, fence).await
    }

    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
        every: Duration,
    ) -> Result<Option<JobFence>> {
        leases::acquire(self, job, holder, ttl, every).await
    }

    async fn release_lease(&self, fence: &JobFence, finished: bool) -> Result<()> {
        leases::release(self, fence, finished).await
    }

    async fn group_lag(&self, group_id: &str) -> Result<Vec<PartitionLag>> {
        groups::group_lag(&self.pool, group_id).await
    }

    async fn delete_offsets(&self, group_id: &str, partitions: &[(TopicId, i32)]) -> Result<()> {
        groups::delete_offsets(self, group_id, partitions).await
    }

    async fn expire_groups(&self, older_than_ms: i64) -> Result<u64> {
        groups::expire(self, older_than_ms).await
    }

    async fn transaction(&self, transactional_id: &str) -> Result<Option<TxnRecord>> {
        transactions::transaction(self, transactional_id).await
    }

    async fn list_transactions(&self, after: &str, limit: u32) -> Result<Vec<TxnRecord>> {
        transactions::list_transactions(self, after, limit).await
    }

    async fn init_transaction(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        now_ms: i64,
    ) -> Result<TxnInit> {
        transactions::init_transaction(self, transactional_id, timeout_ms, now_ms).await
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
            self,
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
            self,
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
        transactions::prepare_transaction(self, transactional_id, expected, commit, epoch, now_ms)
            .await
    }

    async fn complete_transaction(
        &self,
        transactional_id: &str,
        expected: TxnVersion,
        now_ms: i64,
    ) -> Result<bool> {
        transactions::complete_transaction(self, transactional_id, expected, now_ms).await
    }

    async fn aborted_transactions(
        &self,
        topic: TopicId,
        partition: i32,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<AbortedTxn>> {
        transactions::aborted_transactions(self, topic, partition, from, to, limit).await
    }

    async fn open_transactions(&self, topic: TopicId, partition: i32) -> Result<Vec<OpenTxn>> {
        transactions::open_transactions(self, topic, partition).await
    }

    async fn pending_txn_offsets(&self, group_id: &str) -> Result<Vec<(TopicId, i32)>> {
        transactions::pending_txn_offsets(self, group_id).await
    }

    async fn expire_transactional_ids(&self, older_than_ms: i64, limit: u32) -> Result<u64> {
        transactions::expire_transactional_ids(self, older_than_ms, limit).await
    }
}
