//! Floe's metadata store: the sequencer of the log.
//!
//! Every segment file an agent uploads is committed here in one transaction
//! that assigns the offsets of all the partitions it holds. The store also
//! keeps topics, the batch index and producer ids. One narrow async trait,
//! [`MetadataStore`], has one implementation per database; [`open`] picks one
//! from a URL.

pub mod acls;
mod archive;
mod cleaner;
mod compaction;
mod convert;
mod error;
mod groups;
mod outcomes;
mod postgres;
mod quotas;
mod resolve;
mod sequencer;
mod sqlite;
mod store;
mod transactions;
mod types;
mod validate;

pub use acls::{AclBinding, AclBindingFilter};
pub use archive::{ArchiveCommit, ArchiveManifest, ArchiveOutcome, ArchivedFile, ArchivedRowGroup};
pub use cleaner::{CleanSwap, CleanedSegment, CleanerPartition, CleanerProgress};
pub use compaction::{
    CompactedRow, CompactionCandidate, CompactionSwap, MAX_SWAP_INPUTS, MAX_SWAP_PARTITIONS,
    MAX_SWAP_ROWS, PartitionSwap, SegmentRow, SwapOutcome,
};
pub use error::{MetadataError, Result};
pub use postgres::{PostgresStore, STATEMENT_TIMEOUT};
pub use quotas::{ClientQuota, ClientQuotaAlteration, ClientQuotaEntity, QuotaEntityPart};
pub use resolve::open;
pub use sqlite::SqliteStore;
pub use store::{CommitNotifications, FORGET_AGENTS_AFTER, MetadataStore, StoreEvent};
pub use transactions::{AbortedTxn, OpenTxn, TxnInit, TxnRecord, TxnRefusal, TxnState, TxnVersion};
pub use types::{
    AgentRecord, BatchEntry, BatchOutcome, BatchTxn, CommitEntry, CommittedOffset,
    CommittedSegment, DeletedRecords, GroupListing, GroupMember, GroupState, IndexRow, JobFence,
    NewTopic, PartitionLag, PartitionOffsets, ProducerBatch, ProducerIdentity, ProducerState,
    Pruned, Retained, RetentionPolicy, ScramCredential, SegmentCommit, SegmentId, Topic, TopicId,
    UnreferencedSegment,
};
pub use validate::topic_name as validate_topic_name;
