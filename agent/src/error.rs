//! The agent's error type. The Kafka layer turns these into error codes in
//! one place: [`crate::kafka::error_codes`].

use floe_metadata::MetadataError;

use crate::segment::{SegmentError, batch::BatchError};

/// What can go wrong inside the agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The metadata store failed or refused.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The object store failed.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// A stored segment could not be read.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// A record batch was refused.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// The topic or partition does not exist.
    #[error("unknown topic or partition")]
    UnknownTopicOrPartition,
    /// The offset is outside the partition's log.
    #[error("offset out of range")]
    OffsetOutOfRange,
    /// The flush that held the data failed; the data was not stored.
    #[error("flush failed: {0}")]
    FlushFailed(String),
    /// Stored data could not be decoded (a bug or a corrupted object).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The agent is shutting down and takes no new work.
    #[error("agent is shutting down")]
    ShuttingDown,
    /// The archive tier could not be written or read.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A configuration value is wrong.
    #[error("configuration: {0}")]
    Config(String),
}

/// Result with [`AgentError`].
pub type Result<T, E = AgentError> = std::result::Result<T, E>;
