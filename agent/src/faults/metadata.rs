//! A metadata store that fails segment commits (before they apply), loses
//! their answers (after they apply), hangs them, and fails reads, at the
//! rates of its [`Faults`]; every call passes through to the real store.
//! Errors look like a lost connection, the case whose outcome is unknown.

use std::sync::Arc;

use async_trait::async_trait;
use floe_metadata::{AbortedTxn, OpenTxn, TxnInit, TxnRecord, TxnRefusal, TxnVersion};
use floe_metadata::{
    AgentRecord, CleanSwap, CleanerPartition, CommitNotifications, CommittedOffset,
    CommittedSegment, CompactionCandidate, CompactionSwap, DeletedRecords, GroupListing,
    GroupState, IndexRow, JobFence, MetadataError, MetadataStore, NewTopic, PartitionLag,
    PartitionOffsets, ProducerIdentity, ProducerState, Pruned, Result, Retained, RetentionPolicy,
    ScramCredential, SegmentCommit, SegmentId, SegmentRow, SwapOutcome, Topic, TopicId,
    UnreferencedSegment,
};

use super::{Fault, Faults, injected};

/// Wraps a real metadata store with injected faults.
#[derive(Debug)]
pub struct FaultyMetadataStore {
    inner: Arc<dyn MetadataStore>,
    faults: Arc<Faults>,
}

impl FaultyMetadataStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn MetadataStore>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }

    fn read_fault(&self) -> Result<()> {
        if self.faults.strikes(Fault::ReadError) {
            return Err(MetadataError::connection_lost(injected(Fault::ReadError)));
        }
        Ok(())
    }
}

#[async_trait]
impl MetadataStore for FaultyMetadataStore {
    async fn commit_segment_reporting(&self, commit: &SegmentCommit) -> Result<CommittedSegment> {
        self.faults.delay().await;
        if self.faults.strikes(Fault::CommitError) {
            return Err(MetadataError::connection_lost(injected(Fault::CommitError)));
        }
        if self.faults.strikes(Fault::CommitHang) {
            // A stalled connection: nothing is applied, no answer comes.
            std::future::pending::<()>().await;
        }
        let committed = self.inner.commit_segment_reporting(commit).await?;
        if self.faults.strikes(Fault::CommitLost) {
            return Err(MetadataError::connection_lost(injected(Fault::CommitLost)));
        }
        Ok(committed)
    }

    async fn create_topic(&self, topic: NewTopic) -> Result<Topic> {
        self.faults.delay().await;
        self.inner.create_topic(topic).await
    }

    async fn topic_by_name(&self, name: &str) -> Result<Option<Topic>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.topic_by_name(name).await
    }

    async fn topic_by_id(&self, id: TopicId) -> Result<Option<Topic>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.topic_by_id(id).await
    }

    async fn list_topics(&self) -> Result<Vec<Topic>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.list_topics().await
    }

    async fn partition_sizes(&self, topic: TopicId) -> Result<Vec<(i32, i64)>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.partition_sizes(topic).await
    }

    async fn partition_producers(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Vec<ProducerState>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.partition_producers(topic, partition).await
    }

    async fn create_partitions(&self, id: TopicId, count: i32) -> Result<Topic> {
        self.faults.delay().await;
        self.inner.create_partitions(id, count).await
    }

    async fn delete_records(
        &self,
        topic: TopicId,
        partition: i32,
        before_offset: i64,
    ) -> Result<DeletedRecords> {
        self.faults.delay().await;
        self.inner
            .delete_records(topic, partition, before_offset)
            .await
    }

    async fn set_topic_config(
        &self,
        id: TopicId,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        self.faults.delay().await;
        self.inner.set_topic_config(id, config).await
    }

    async fn broker_configs(&self) -> Result<std::collections::BTreeMap<String, String>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.broker_configs().await
    }

    async fn set_broker_configs(
        &self,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        self.faults.delay().await;
        self.inner.set_broker_configs(config).await
    }

    async fn client_quotas(&self) -> Result<Vec<floe_metadata::ClientQuota>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.client_quotas().await
    }

    async fn alter_client_quotas(
        &self,
        alterations: &[floe_metadata::ClientQuotaAlteration],
    ) -> Result<()> {
        self.faults.delay().await;
        self.inner.alter_client_quotas(alterations).await
    }

    async fn acl_version(&self) -> Result<i64> {
        self.faults.delay().await;
        self.inner.acl_version().await
    }

    async fn acls(&self) -> Result<(i64, Vec<floe_metadata::AclBinding>)> {
        self.faults.delay().await;
        self.inner.acls().await
    }

    async fn create_acls(&self, acls: &[floe_metadata::AclBinding]) -> Result<()> {
        self.faults.delay().await;
        self.inner.create_acls(acls).await
    }

    async fn describe_acls(
        &self,
        filter: &floe_metadata::AclBindingFilter,
    ) -> Result<Vec<floe_metadata::AclBinding>> {
        self.faults.delay().await;
        self.inner.describe_acls(filter).await
    }

    async fn delete_acls(
        &self,
        filters: &[floe_metadata::AclBindingFilter],
    ) -> Result<Vec<Vec<floe_metadata::AclBinding>>> {
        self.faults.delay().await;
        self.inner.delete_acls(filters).await
    }

    async fn delete_topic(&self, id: TopicId) -> Result<()> {
        self.faults.delay().await;
        self.inner.delete_topic(id).await
    }

    async fn partition_offsets(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<PartitionOffsets>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.partition_offsets(topic, partition).await
    }

    async fn partitions_offsets(
        &self,
        partitions: &[(TopicId, i32)],
    ) -> Result<Vec<Option<PartitionOffsets>>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.partitions_offsets(partitions).await
    }

    async fn index_rows(
        &self,
        topic: TopicId,
        partition: i32,
        from_offset: i64,
        limit: u32,
    ) -> Result<Vec<IndexRow>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner
            .index_rows(topic, partition, from_offset, limit)
            .await
    }

    async fn first_row_with_timestamp_at_least(
        &self,
        topic: TopicId,
        partition: i32,
        timestamp: i64,
        from_offset: i64,
    ) -> Result<Option<IndexRow>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner
            .first_row_with_timestamp_at_least(topic, partition, timestamp, from_offset)
            .await
    }

    async fn row_with_max_timestamp(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<IndexRow>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.row_with_max_timestamp(topic, partition).await
    }

    async fn init_producer_id(&self, transactional_id: Option<&str>) -> Result<ProducerIdentity> {
        self.faults.delay().await;
        self.inner.init_producer_id(transactional_id).await
    }

    async fn register_agent(
        &self,
        host: &str,
        port: i32,
        zone: Option<&str>,
        listeners: &str,
    ) -> Result<i32> {
        self.faults.delay().await;
        self.inner.register_agent(host, port, zone, listeners).await
    }

    async fn scram_credentials(&self, user: Option<&str>) -> Result<Vec<ScramCredential>> {
        self.inner.scram_credentials(user).await
    }

    async fn upsert_scram_credential(&self, credential: &ScramCredential) -> Result<()> {
        self.inner.upsert_scram_credential(credential).await
    }

    async fn delete_scram_credential(&self, user: &str, mechanism: Option<&str>) -> Result<u64> {
        self.inner.delete_scram_credential(user, mechanism).await
    }

    async fn heartbeat_agent(&self, node_id: i32) -> Result<bool> {
        self.faults.delay().await;
        self.inner.heartbeat_agent(node_id).await
    }

    async fn live_agents(&self, max_age: std::time::Duration) -> Result<Vec<AgentRecord>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.live_agents(max_age).await
    }

    async fn deregister_agent(&self, node_id: i32) -> Result<()> {
        self.faults.delay().await;
        self.inner.deregister_agent(node_id).await
    }

    async fn commit_notifications(&self) -> Result<Option<CommitNotifications>> {
        self.faults.delay().await;
        self.inner.commit_notifications().await
    }

    async fn load_group(&self, group_id: &str) -> Result<Option<GroupState>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.load_group(group_id).await
    }

    async fn claim_group(&self, group_id: &str) -> Result<i64> {
        self.faults.delay().await;
        self.inner.claim_group(group_id).await
    }

    async fn store_group(
        &self,
        state: &GroupState,
        expected_generation: Option<i32>,
        coordinator_epoch: i64,
    ) -> Result<bool> {
        self.faults.delay().await;
        self.inner
            .store_group(state, expected_generation, coordinator_epoch)
            .await
    }

    async fn delete_group(&self, group_id: &str) -> Result<bool> {
        self.faults.delay().await;
        self.inner.delete_group(group_id).await
    }

    async fn list_groups(&self) -> Result<Vec<GroupListing>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.list_groups().await
    }

    async fn commit_offsets(
        &self,
        group_id: &str,
        expected_generation: Option<i32>,
        offsets: &[CommittedOffset],
        coordinator_epoch: i64,
    ) -> Result<bool> {
        self.faults.delay().await;
        self.inner
            .commit_offsets(group_id, expected_generation, offsets, coordinator_epoch)
            .await
    }

    async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[(TopicId, i32)]>,
    ) -> Result<Vec<CommittedOffset>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.fetch_offsets(group_id, partitions).await
    }

    async fn commit_archive(
        &self,
        commit: &floe_metadata::ArchiveCommit,
        fence: &floe_metadata::JobFence,
    ) -> Result<floe_metadata::ArchiveOutcome> {
        self.faults.delay().await;
        self.inner.commit_archive(commit, fence).await
    }

    async fn archive_progress(&self, topic: TopicId) -> Result<Vec<(i32, i64)>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.archive_progress(topic).await
    }

    async fn archive_manifests(
        &self,
        topic: TopicId,
    ) -> Result<Vec<floe_metadata::ArchiveManifest>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.archive_manifests(topic).await
    }

    async fn apply_retention(
        &self,
        topic: TopicId,
        partition: i32,
        policy: &RetentionPolicy,
        fence: &JobFence,
    ) -> Result<Option<Retained>> {
        self.faults.delay().await;
        self.inner
            .apply_retention(topic, partition, policy, fence)
            .await
    }

    async fn unreferenced_segments(
        &self,
        grace: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<UnreferencedSegment>> {
        self.faults.delay().await;
        self.inner.unreferenced_segments(grace, limit).await
    }

    async fn sweep_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<Vec<SegmentId>> {
        self.faults.delay().await;
        self.inner.sweep_segments(ids, fence).await
    }

    async fn compaction_candidates(
        &self,
        level: i32,
        max_size: u64,
        limit: u32,
    ) -> Result<Vec<CompactionCandidate>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner
            .compaction_candidates(level, max_size, limit)
            .await
    }

    async fn segment_rows(&self, segments: &[SegmentId], limit: u32) -> Result<Vec<SegmentRow>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.segment_rows(segments, limit).await
    }

    async fn swap_compacted(&self, swap: &CompactionSwap, fence: &JobFence) -> Result<SwapOutcome> {
        self.faults.delay().await;
        self.inner.swap_compacted(swap, fence).await
    }

    async fn cleaner_partitions(&self, topic: TopicId) -> Result<Vec<CleanerPartition>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.cleaner_partitions(topic).await
    }

    async fn swap_cleaned(&self, swap: &CleanSwap, fence: &JobFence) -> Result<bool> {
        self.faults.delay().await;
        self.inner.swap_cleaned(swap, fence).await
    }

    async fn forget_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<u64> {
        self.faults.delay().await;
        self.inner.forget_segments(ids, fence).await
    }

    async fn prune(
        &self,
        outcomes_after: std::time::Duration,
        producers_after: std::time::Duration,
        limit: u32,
        fence: &JobFence,
    ) -> Result<Pruned> {
        self.faults.delay().await;
        self.inner
            .prune(outcomes_after, producers_after, limit, fence)
            .await
    }

    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: std::time::Duration,
        every: std::time::Duration,
    ) -> Result<Option<JobFence>> {
        self.faults.delay().await;
        self.inner.acquire_lease(job, holder, ttl, every).await
    }

    async fn release_lease(&self, fence: &JobFence, finished: bool) -> Result<()> {
        self.faults.delay().await;
        self.inner.release_lease(fence, finished).await
    }

    async fn group_lag(&self, group_id: &str) -> Result<Vec<PartitionLag>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.group_lag(group_id).await
    }

    async fn delete_offsets(&self, group_id: &str, partitions: &[(TopicId, i32)]) -> Result<()> {
        self.faults.delay().await;
        self.inner.delete_offsets(group_id, partitions).await
    }

    async fn expire_groups(&self, older_than_ms: i64) -> Result<u64> {
        self.faults.delay().await;
        self.inner.expire_groups(older_than_ms).await
    }
    async fn transaction(&self, transactional_id: &str) -> Result<Option<TxnRecord>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.transaction(transactional_id).await
    }

    async fn list_transactions(&self, after: &str, limit: u32) -> Result<Vec<TxnRecord>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.list_transactions(after, limit).await
    }

    async fn init_transaction(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        now_ms: i64,
    ) -> Result<TxnInit> {
        self.faults.delay().await;
        self.inner
            .init_transaction(transactional_id, timeout_ms, now_ms)
            .await
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
        self.faults.delay().await;
        self.inner
            .add_to_transaction(
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
        self.faults.delay().await;
        self.inner
            .txn_commit_offsets(transactional_id, producer_id, epoch, group_id, offsets)
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
        self.faults.delay().await;
        self.inner
            .prepare_transaction(transactional_id, expected, commit, epoch, now_ms)
            .await
    }

    async fn complete_transaction(
        &self,
        transactional_id: &str,
        expected: TxnVersion,
        now_ms: i64,
    ) -> Result<bool> {
        self.faults.delay().await;
        self.inner
            .complete_transaction(transactional_id, expected, now_ms)
            .await
    }

    async fn aborted_transactions(
        &self,
        topic: TopicId,
        partition: i32,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<AbortedTxn>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner
            .aborted_transactions(topic, partition, from, to, limit)
            .await
    }

    async fn open_transactions(&self, topic: TopicId, partition: i32) -> Result<Vec<OpenTxn>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.open_transactions(topic, partition).await
    }

    async fn pending_txn_offsets(&self, group_id: &str) -> Result<Vec<(TopicId, i32)>> {
        self.faults.delay().await;
        self.read_fault()?;
        self.inner.pending_txn_offsets(group_id).await
    }

    async fn expire_transactional_ids(&self, older_than_ms: i64, limit: u32) -> Result<u64> {
        self.faults.delay().await;
        self.inner
            .expire_transactional_ids(older_than_ms, limit)
            .await
    }
}
