//! The [`MetadataStore`] trait: the one seam between agents and the database.

use async_trait::async_trait;

use crate::{AbortedTxn, OpenTxn};
use crate::{
    AgentRecord, ArchiveCommit, ArchiveManifest, ArchiveOutcome, BatchOutcome, CleanSwap,
    CleanerPartition, CommittedOffset, CommittedSegment, CompactionCandidate, CompactionSwap,
    DeletedRecords, GroupListing, GroupState, IndexRow, JobFence, NewTopic, PartitionLag,
    PartitionOffsets, ProducerIdentity, ProducerState, Pruned, Result, Retained, RetentionPolicy,
    ScramCredential, SegmentCommit, SegmentId, SegmentRow, SwapOutcome, Topic, TopicId, TxnInit,
    TxnRecord, TxnRefusal, TxnVersion, UnreferencedSegment,
};

/// The metadata store. Every implementation passes the same contract suite
/// (`metadata/tests/contract.rs`).
#[async_trait]
pub trait MetadataStore: Send + Sync + std::fmt::Debug {
    /// Creates a topic with partitions `0..partitions`, each starting empty at
    /// offset 0. Fails with [`crate::MetadataError::TopicExists`] if the name
    /// is taken and [`crate::MetadataError::Invalid`] if `partitions < 1`.
    async fn create_topic(&self, topic: NewTopic) -> Result<Topic>;

    /// The topic with this name, if any.
    async fn topic_by_name(&self, name: &str) -> Result<Option<Topic>>;

    /// The topic with this id, if any.
    async fn topic_by_id(&self, id: TopicId) -> Result<Option<Topic>>;

    /// All topics, ordered by name.
    async fn list_topics(&self) -> Result<Vec<Topic>>;

    /// Deletes a topic, its partitions, its index rows and the offsets groups
    /// committed for it. The segment files
    /// stay in object storage for garbage collection. Fails with
    /// [`crate::MetadataError::UnknownTopic`] if there is no such topic.
    async fn delete_topic(&self, id: TopicId) -> Result<()>;

    /// Grows topic `id` to `count` partitions: the new ones start empty at
    /// offset 0, the existing ones are untouched. Returns the topic as it
    /// now is. Fails with [`crate::MetadataError::UnknownTopic`] if there is
    /// no such topic, [`crate::MetadataError::PartitionsNotIncreased`] unless
    /// `count` is larger than the topic's partition count, and
    /// [`crate::MetadataError::Invalid`] above the most partitions a topic
    /// may have. Agents listening for [`StoreEvent`]s hear of the change
    /// ([`StoreEvent::TopicChanged`]) once it commits.
    async fn create_partitions(&self, id: TopicId, count: i32) -> Result<Topic>;

    /// Deletes the records of a partition below `before_offset` (Kafka's
    /// DeleteRecords): advances the log start offset to it (never back),
    /// drops the index rows that end below it and makes their segments
    /// candidates of the segment collector. `-1` means the high watermark;
    /// any other negative offset, or one above the high watermark, is
    /// [`DeletedRecords::OutOfRange`] and changes nothing.
    async fn delete_records(
        &self,
        topic: TopicId,
        partition: i32,
        before_offset: i64,
    ) -> Result<DeletedRecords>;

    /// The bytes each partition of `topic` holds in segment objects (the
    /// sum of its index rows' lengths), by partition; partitions without
    /// records are absent. Reads every index row of the topic: an admin
    /// call (DescribeLogDirs), not for a hot path.
    async fn partition_sizes(&self, topic: TopicId) -> Result<Vec<(i32, i64)>>;

    /// The idempotent producers with state on a partition (those whose
    /// batches the commit still checks), by producer id.
    async fn partition_producers(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Vec<ProducerState>>;

    /// Replaces a topic's configuration overrides with `config` (the whole
    /// set: names absent from it return to their defaults). Listening agents
    /// hear of it (their cached copy is stale). Fails with
    /// [`crate::MetadataError::UnknownTopic`] if there is no such topic.
    async fn set_topic_config(
        &self,
        id: TopicId,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()>;

    /// The dynamic broker configs, cluster-wide, by name.
    async fn broker_configs(&self) -> Result<std::collections::BTreeMap<String, String>>;

    /// Replaces the whole set of dynamic broker configs.
    async fn set_broker_configs(
        &self,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()>;

    /// Every client quota (KIP-546), cluster-wide, ordered by entity.
    async fn client_quotas(&self) -> Result<Vec<crate::ClientQuota>>;

    /// Applies quota alterations in one transaction: each key of each
    /// entity set to its value, or removed (an entity left without keys
    /// is gone). Fails with [`crate::MetadataError::Invalid`], changing
    /// nothing, if an entity has no part, a key is empty or a value is not
    /// finite.
    async fn alter_client_quotas(&self, alterations: &[crate::ClientQuotaAlteration])
    -> Result<()>;

    /// The ACL version: moves whenever a create or delete changes the ACLs,
    /// so an agent polls this one row to know whether to read them again.
    async fn acl_version(&self) -> Result<i64>;

    /// Every ACL binding and the [`MetadataStore::acl_version`] they are
    /// at, read together.
    async fn acls(&self) -> Result<(i64, Vec<crate::AclBinding>)>;

    /// Adds bindings in one transaction; one that exists already stays
    /// (creating it again succeeds, as in Kafka). Fails with
    /// [`crate::MetadataError::Invalid`], changing nothing, if a binding
    /// is not concrete ([`crate::AclBinding::validate`]).
    async fn create_acls(&self, acls: &[crate::AclBinding]) -> Result<()>;

    /// The bindings `filter` matches (Kafka's `AclBindingFilter` rules,
    /// `MATCH` included), in key order.
    async fn describe_acls(
        &self,
        filter: &crate::AclBindingFilter,
    ) -> Result<Vec<crate::AclBinding>>;

    /// Deletes, in one transaction, every binding one of `filters` matches;
    /// answers, per filter in order, the bindings it matched (one matched
    /// by two filters is listed under both, as Kafka answers).
    async fn delete_acls(
        &self,
        filters: &[crate::AclBindingFilter],
    ) -> Result<Vec<Vec<crate::AclBinding>>>;

    /// Commits a segment in one transaction. For each entry, and each of its
    /// batches in order: a batch of an idempotent producer is checked against
    /// the last five batches committed by that producer to that partition
    /// (see [`BatchOutcome`]); an accepted batch takes the partition's high
    /// watermark as base offset and advances it by its `offset_count`.
    /// Accepted batches that are adjacent in the file share one index row
    /// (a duplicate or refused batch between them splits the row).
    ///
    /// Returns one outcome per batch, per entry, in the order given.
    /// Idempotent by `segment_id`: committing a segment that is already
    /// committed changes nothing and returns the outcomes of the first
    /// commit.
    async fn commit_segment(&self, commit: &SegmentCommit) -> Result<Vec<Vec<BatchOutcome>>> {
        Ok(self.commit_segment_reporting(commit).await?.outcomes)
    }

    /// [`MetadataStore::commit_segment`], answering with each entry's
    /// partition log start offset too, read in the same round trip (the
    /// flusher's form: Produce reports the log start). A retry of a
    /// committed segment answers the stored outcomes and the log starts as
    /// they are now.
    async fn commit_segment_reporting(&self, commit: &SegmentCommit) -> Result<CommittedSegment>;

    /// The bounds of a partition, or `None` if it does not exist.
    async fn partition_offsets(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<PartitionOffsets>>;

    /// The offsets of many partitions in one round trip, in the order
    /// asked; `None` for a partition that does not exist. What a fetch of
    /// many partitions reads first.
    async fn partitions_offsets(
        &self,
        partitions: &[(TopicId, i32)],
    ) -> Result<Vec<Option<PartitionOffsets>>>;

    /// Index rows of a partition whose `last_offset >= from_offset`, ordered
    /// by `base_offset`, at most `limit` of them; none if `from_offset` is
    /// below the partition's log start offset, read in the same snapshot
    /// (so a read racing retention never skips to later data).
    async fn index_rows(
        &self,
        topic: TopicId,
        partition: i32,
        from_offset: i64,
        limit: u32,
    ) -> Result<Vec<IndexRow>>;

    /// The first index row (by offset) starting at `from_offset` or later
    /// whose `max_timestamp >= timestamp`. A row's max timestamp may be its
    /// append time (batches without timestamps): the caller moves on to the
    /// next row when no batch of this one matches.
    async fn first_row_with_timestamp_at_least(
        &self,
        topic: TopicId,
        partition: i32,
        timestamp: i64,
        from_offset: i64,
    ) -> Result<Option<IndexRow>>;

    /// The index row holding the partition's largest timestamp (the first
    /// such row if several tie).
    async fn row_with_max_timestamp(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<IndexRow>>;

    /// Hands out a producer id for InitProducerId. Without a transactional
    /// id: a fresh id with epoch 0. With one: the first call allocates a
    /// fresh id with epoch 0 and remembers it; later calls return the same id
    /// with the epoch bumped by one (a fresh id once the epoch would pass
    /// `i16::MAX - 1`), which fences the previous incarnation.
    async fn init_producer_id(&self, transactional_id: Option<&str>) -> Result<ProducerIdentity>;

    /// Registers a starting agent and returns its new node id (unique
    /// forever: a restarted agent gets a new one). The registration counts
    /// as a first heartbeat. Fails with [`crate::MetadataError::Invalid`]
    /// unless `host` and `zone` are 1 to 255 bytes and `port` is 1 to 65535.
    /// `listeners` is the advertised address of each listener
    /// (`NAME://host:port,…`, at most 4096 bytes; empty: only `host:port`).
    ///
    /// Registering also removes the agents whose last heartbeat is more than
    /// [`FORGET_AGENTS_AFTER`] old: they crashed long ago.
    async fn register_agent(
        &self,
        host: &str,
        port: i32,
        zone: Option<&str>,
        listeners: &str,
    ) -> Result<i32>;

    /// The SCRAM credentials of `user`, or of every user when `None`,
    /// ordered by user and mechanism.
    async fn scram_credentials(&self, user: Option<&str>) -> Result<Vec<ScramCredential>>;

    /// Stores `credential`, replacing the user's credential of the same
    /// mechanism. Fails with [`crate::MetadataError::Invalid`] for an empty
    /// or over-long user, an unknown mechanism or iterations outside
    /// 4096..=16384.
    async fn upsert_scram_credential(&self, credential: &ScramCredential) -> Result<()>;

    /// Deletes the user's credential of `mechanism` (every mechanism when
    /// `None`); returns how many were deleted.
    async fn delete_scram_credential(&self, user: &str, mechanism: Option<&str>) -> Result<u64>;

    /// Records that agent `node_id` is alive, by the database's clock.
    /// Returns `false` if its registration is gone (deregistered, or removed
    /// after [`FORGET_AGENTS_AFTER`] without heartbeats), in which case the
    /// agent must register again.
    async fn heartbeat_agent(&self, node_id: i32) -> Result<bool>;

    /// The agents whose last heartbeat is at most `max_age` old by the
    /// database's clock, ordered by node id.
    async fn live_agents(&self, max_age: std::time::Duration) -> Result<Vec<AgentRecord>>;

    /// Removes an agent's registration (clean shutdown). Removing one that
    /// is already gone is not an error.
    async fn deregister_agent(&self, node_id: i32) -> Result<()>;

    /// A stream of what other agents changed: an event after each segment
    /// commit that appended records, made by any agent on this store
    /// (several commits may be merged into one; a retried commit yields
    /// nothing), so that long-polling fetches on every agent wake promptly;
    /// an event for each topic deleted, so cached topic ids are dropped;
    /// and one after the stream reconnected (see [`StoreEvent`]). `None` when the
    /// store cannot notify (SQLite: one agent only; its own commits wake its
    /// fetches directly). Notifications sent while the stream is
    /// reconnecting may be lost: callers also poll. The stream does not end
    /// while the store is open; it ends once the store is closed or dropped.
    async fn commit_notifications(&self) -> Result<Option<CommitNotifications>>;

    /// The stored state of a consumer group, if it was ever stored.
    async fn load_group(&self, group_id: &str) -> Result<Option<GroupState>>;

    /// Takes over the coordination of a group: bumps the group's
    /// coordinator epoch (1 the first time; epochs never go back, even
    /// across a deletion of the group) and returns it. From then on, group
    /// writes made with an older epoch are refused: an agent that still
    /// believes it coordinates the group cannot write it. The new
    /// coordinator loads the group after claiming it; a write under the old
    /// epoch either happened before the claim (and is loaded) or is refused.
    async fn claim_group(&self, group_id: &str) -> Result<i64>;

    /// Stores a group's state, compare-and-set on the generation and fenced
    /// by the coordinator epoch: it is written only if the stored generation
    /// equals `expected_generation` (`None`: only if the group is not
    /// stored yet) and `coordinator_epoch` is the group's current one (0:
    /// only while no agent ever claimed the group). Returns `false`, and
    /// writes nothing, otherwise: another coordinator moved the group on or
    /// took it over, and this one must stop acting for it.
    async fn store_group(
        &self,
        state: &GroupState,
        expected_generation: Option<i32>,
        coordinator_epoch: i64,
    ) -> Result<bool>;

    /// Deletes a group and its committed offsets. Returns `false` if there
    /// was no such group (neither state nor offsets).
    async fn delete_group(&self, group_id: &str) -> Result<bool>;

    /// Every group with a stored state or committed offsets, by group id.
    async fn list_groups(&self) -> Result<Vec<GroupListing>>;

    /// Commits offsets for a group, all or nothing. With
    /// `expected_generation: Some(g)` the commit applies only if the stored
    /// group state has generation `g` (a group member's commit; returns
    /// `false` and writes nothing otherwise); with `None` it applies
    /// unconditionally (a simple consumer not in a group, generation -1).
    /// Either way it applies only if `coordinator_epoch` is the group's
    /// current one (see [`MetadataStore::store_group`]). Offsets of topics
    /// that no longer exist are skipped. A partition given twice is
    /// committed once, with the last of its offsets.
    async fn commit_offsets(
        &self,
        group_id: &str,
        expected_generation: Option<i32>,
        offsets: &[CommittedOffset],
        coordinator_epoch: i64,
    ) -> Result<bool>;

    /// A group's committed offsets: all of them with `None`, or those of
    /// the given partitions (absent ones are simply missing from the
    /// answer). Ordered by topic id and partition.
    async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[(TopicId, i32)]>,
    ) -> Result<Vec<CommittedOffset>>;

    /// Retention of one partition, by time and by size: deletes the index
    /// rows from the log start up to the first row `policy` keeps (at most
    /// `policy.max_rows` of them), advances the log start offset past them
    /// (to the high watermark if every row went) and makes their segments
    /// candidates of the segment collector. `None` for an unknown
    /// partition. A write of the retention job: refused unless `fence`
    /// holds its lease.
    async fn apply_retention(
        &self,
        topic: TopicId,
        partition: i32,
        policy: &RetentionPolicy,
        fence: &JobFence,
    ) -> Result<Option<Retained>>;

    /// Segments of deleted topics (or of expired rows) that no index row
    /// points at any more, committed and made candidates more than `grace`
    /// ago (so a fetch that read a row just before it went still finds the
    /// object), oldest first, at most `limit`:
    /// their objects can be deleted. The grace outlasts any retry of a
    /// commit (a retry of a forgotten segment would commit it again). Only
    /// those candidates are considered, so the cost follows what
    /// was deleted, not the size of the log; a segment none of whose batches
    /// was ever appended is not found.
    async fn unreferenced_segments(
        &self,
        grace: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<UnreferencedSegment>>;

    /// Segments compaction may merge: compactable segments of `level`
    /// smaller than `max_size` bytes that index rows still point at, oldest
    /// commit first, at most `limit`. Served by a partial index over the
    /// compactable segments only.
    async fn compaction_candidates(
        &self,
        level: i32,
        max_size: u64,
        limit: u32,
    ) -> Result<Vec<CompactionCandidate>>;

    /// The index rows pointing at `segments`, ordered by (topic id,
    /// partition, base offset), at most `limit`.
    async fn segment_rows(&self, segments: &[SegmentId], limit: u32) -> Result<Vec<SegmentRow>>;

    /// Swaps the rows a compaction merged for the rows of its new segment,
    /// in one transaction that holds the touched partitions' locks (as a
    /// commit and retention do). A partition is swapped only if every one
    /// of its old rows is still stored exactly as given; otherwise it is
    /// skipped and keeps its rows (retention, DeleteRecords, a topic
    /// deletion or another compaction changed it): no row is ever lost or
    /// brought back, no offset moves. If any partition is swapped, the new
    /// segment is recorded with its level, and the inputs no row points at
    /// any more stop being compactable and become candidates of the segment
    /// collector (their objects go after its grace). If none is, nothing is
    /// written and the caller deletes the new object. A swap whose new rows
    /// do not cover exactly its old rows' offsets and bytes is
    /// [`crate::MetadataError::Invalid`]. Fenced: fails with
    /// [`crate::MetadataError::LeaseLost`], writing nothing, unless `fence`
    /// still holds the `compaction` lease.
    async fn swap_compacted(&self, swap: &CompactionSwap, fence: &JobFence) -> Result<SwapOutcome>;

    /// The partitions of `topic` as the log cleaner weighs them: offsets,
    /// bytes in all rows and in the dirty rows (from the cleaner's
    /// progress on), and that progress, by partition. Reads every index
    /// row of the topic: once per partition per cleaner pass, for
    /// compacted topics only.
    async fn cleaner_partitions(&self, topic: TopicId) -> Result<Vec<CleanerPartition>>;

    /// Swaps a cleaned stretch of one partition in, in one transaction
    /// holding the partition's lock: only if every old row is still
    /// stored exactly as given (else nothing is written and the answer is
    /// `false`; the caller deletes the new object). The old rows go, the
    /// new segment (if any) and its rows come in, the old rows' segments
    /// no row points at any more become candidates of the segment
    /// collector, and the progress (if given) is recorded. A swap whose
    /// new rows are not inside the old rows' offsets is
    /// [`crate::MetadataError::Invalid`]. Fenced: fails with
    /// [`crate::MetadataError::LeaseLost`], writing nothing, unless
    /// `fence` still holds its lease (the `log_cleaner` job's).
    async fn swap_cleaned(&self, swap: &CleanSwap, fence: &JobFence) -> Result<bool>;

    /// Forgets segments whose objects were deleted (their rows and stored
    /// outcomes); one an index row points at is kept (and found again when
    /// its other topics are deleted). Returns how many were forgotten.
    /// Refused unless `fence` holds the collector's lease.
    async fn forget_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<u64>;

    /// The orphan sweep's check of segment objects it listed in the bucket
    /// (all older than the grace): returns the ids the store has no segment
    /// row for (uploaded, never committed: their objects can go), and makes
    /// the committed ones no index row points at (every batch of their
    /// commit was a duplicate or refused) candidates of the segment
    /// collector. Refused unless `fence` holds the sweep's lease.
    async fn sweep_segments(&self, ids: &[SegmentId], fence: &JobFence) -> Result<Vec<SegmentId>>;

    /// Forgets, in a bounded pass, what the store keeps only for a while:
    /// the stored outcomes of segments committed more than `outcomes_after`
    /// ago (only a retried commit reads them, and none comes that late), and
    /// the histories of idempotent producers whose newest batch on a
    /// partition is older than `producers_after` (Kafka's
    /// `producer.id.expiration.ms`; such a producer, heard of again, starts
    /// afresh). At most `limit` segments and `limit` producer-partitions.
    /// Refused unless `fence` holds the prune job's lease.
    async fn prune(
        &self,
        outcomes_after: std::time::Duration,
        producers_after: std::time::Duration,
        limit: u32,
        fence: &JobFence,
    ) -> Result<Pruned>;

    /// Takes the lease of the background job `job` for `holder` (an id
    /// unique to one agent process) for `ttl`, when it is free and the
    /// job's last finished pass (see [`MetadataStore::release_lease`]) is
    /// `every` old, or renews it if `holder` holds it. `None` otherwise. The token of the
    /// fence stays the same across renewals and grows whenever the lease is
    /// taken anew. Times are the database's clock.
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: std::time::Duration,
        every: std::time::Duration,
    ) -> Result<Option<JobFence>>;

    /// Ends the lease `fence` holds at the end of a pass; a `finished`
    /// pass is recorded, so the next waits its interval (one cut short is
    /// due again at once, on whichever agent asks). Nothing happens if the
    /// lease was lost already.
    async fn release_lease(&self, fence: &JobFence, finished: bool) -> Result<()>;

    /// A group's committed offsets with their partitions' high watermarks,
    /// read in one statement, ordered by topic name and partition: what a
    /// lag metric needs.
    async fn group_lag(&self, group_id: &str) -> Result<Vec<PartitionLag>>;

    /// Deletes a group's committed offsets of the given partitions.
    async fn delete_offsets(&self, group_id: &str, partitions: &[(TopicId, i32)]) -> Result<()>;

    /// Deletes the committed offsets of groups without members whose newest
    /// commit is older than `older_than_ms` (ms since the epoch), as Kafka's
    /// `offsets.retention.minutes` does, and those groups' stored states.
    /// A stored state without members and without any offsets is removed
    /// too. Returns how many groups were removed.
    async fn expire_groups(&self, older_than_ms: i64) -> Result<u64>;

    /// Records an archive pass over a topic in one transaction: its
    /// files, as ranges of their partitions, and its Iceberg snapshot (the
    /// next sequence number of the topic). With `drop_segments`, each
    /// range's index rows, which must cover it exactly, are replaced by
    /// one row per row group of its file (`byte_offset`/`byte_len` the row
    /// group's bytes in the Parquet file), the file is recorded as a
    /// segment, and the old rows' segments become candidates of the
    /// collector. A range that no longer matches the log records nothing
    /// ([`ArchiveOutcome::Conflict`]). A write of the archive job: refused
    /// unless `fence` holds its lease.
    async fn commit_archive(
        &self,
        commit: &ArchiveCommit,
        fence: &JobFence,
    ) -> Result<ArchiveOutcome>;

    /// Per partition of a topic with archived ranges, the offset after
    /// its last one, by partition.
    async fn archive_progress(&self, topic: TopicId) -> Result<Vec<(i32, i64)>>;

    /// The Iceberg snapshots of a topic's archive, oldest first.
    async fn archive_manifests(&self, topic: TopicId) -> Result<Vec<ArchiveManifest>>;

    /// The state of a transactional id with the partitions and groups of
    /// its open transaction, if the id is known.
    async fn transaction(&self, transactional_id: &str) -> Result<Option<TxnRecord>>;

    /// Transactional ids ordered by id, after `after` (`""`: from the
    /// first), at most `limit`, without partitions and groups.
    async fn list_transactions(&self, after: &str, limit: u32) -> Result<Vec<TxnRecord>>;

    /// InitProducerId of a transactional id: unless a transaction is open
    /// or half-ended ([`TxnInit::Busy`], for the coordinator to end first),
    /// bumps the epoch (a fresh producer id the first time, or once the
    /// epoch would pass `i16::MAX - 1`), fencing the previous incarnation,
    /// and leaves the id Empty with timeout `timeout_ms`.
    async fn init_transaction(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        now_ms: i64,
    ) -> Result<TxnInit>;

    /// AddPartitionsToTxn / AddOffsetsToTxn: adds `partitions` (each
    /// opening the producer's transaction on it, which the commit of its
    /// transactional batches requires) and `groups` to the producer's
    /// transaction, which is Ongoing afterwards (started at `now_ms` unless
    /// it already was). Answers whether this call opened the transaction.
    /// Refused, writing nothing, unless the id maps to `producer_id` at
    /// `epoch` with no markers in flight.
    async fn add_to_transaction(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(TopicId, i32)],
        groups: &[String],
        now_ms: i64,
    ) -> Result<std::result::Result<bool, TxnRefusal>>;

    /// TxnOffsetCommit: stores offsets of `group_id` pending in the
    /// producer's open transaction (applied to the group's committed
    /// offsets when it commits). Refused as [`add_to_transaction`] is, and
    /// [`TxnRefusal::InvalidState`] unless the transaction is Ongoing with
    /// the group added. Offsets of deleted topics are skipped.
    ///
    /// [`add_to_transaction`]: MetadataStore::add_to_transaction
    async fn txn_commit_offsets(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        group_id: &str,
        offsets: &[CommittedOffset],
    ) -> Result<std::result::Result<(), TxnRefusal>>;

    /// EndTxn's first step, compare-and-set: an Ongoing transaction at
    /// `expected` becomes PrepareCommit or PrepareAbort at `epoch` (the
    /// same, or bumped to fence a zombie when the coordinator aborts on
    /// its own). Returns the record as prepared (its partitions are where
    /// markers go), `None` if the stored one is not `expected`.
    async fn prepare_transaction(
        &self,
        transactional_id: &str,
        expected: TxnVersion,
        commit: bool,
        epoch: i16,
        now_ms: i64,
    ) -> Result<Option<TxnRecord>>;

    /// EndTxn's last step, once every marker is committed,
    /// compare-and-set: a Prepare* transaction at `expected` becomes
    /// Complete*; a commit applies its pending offsets to its groups'
    /// committed offsets, and its partitions, groups and pending offsets
    /// are forgotten. Returns whether it applied.
    async fn complete_transaction(
        &self,
        transactional_id: &str,
        expected: TxnVersion,
        now_ms: i64,
    ) -> Result<bool>;

    /// The aborted transactions of a partition overlapping offsets
    /// `from..=to`, by marker offset, at most `limit`: what a
    /// read_committed Fetch answers with the records it serves.
    async fn aborted_transactions(
        &self,
        topic: TopicId,
        partition: i32,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<AbortedTxn>>;

    /// The transactions open on a partition, by producer id.
    async fn open_transactions(&self, topic: TopicId, partition: i32) -> Result<Vec<OpenTxn>>;

    /// The partitions for which `group_id` has offsets pending in open
    /// transactions (OffsetFetch with `require_stable` answers
    /// UNSTABLE_OFFSET_COMMIT for them).
    async fn pending_txn_offsets(&self, group_id: &str) -> Result<Vec<(TopicId, i32)>>;

    /// Forgets, in a bounded pass, transactional ids with no open
    /// transaction whose state last changed before `older_than_ms`
    /// (Kafka's `transactional.id.expiration.ms`); at most `limit`. Returns
    /// how many.
    async fn expire_transactional_ids(&self, older_than_ms: i64, limit: u32) -> Result<u64>;
}

/// See [`MetadataStore::commit_notifications`].
pub type CommitNotifications = futures::stream::BoxStream<'static, StoreEvent>;

/// What a [`CommitNotifications`] stream tells an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// Segments that appended records were committed (several commits may
    /// be merged into one event): long-polling fetches should look again.
    Committed,
    /// The topic of this name changed: deleted (perhaps to be created
    /// again with a new id), given more partitions or new configs. Whatever
    /// an agent cached of it is stale.
    TopicChanged(String),
    /// The stream lost its connection and listens again: events of the gap
    /// are lost, so everything cached from the store may be stale.
    Resumed,
}

/// How long an agent may go without heartbeats before a registration
/// removes its row (see [`MetadataStore::register_agent`]). Far longer than
/// any liveness window, so only agents that are long dead are forgotten.
pub const FORGET_AGENTS_AFTER: std::time::Duration = std::time::Duration::from_secs(60 * 60);
