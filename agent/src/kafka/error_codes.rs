//! The one place where internal errors become Kafka error codes.

use floe_metadata::MetadataError;
use kafka_protocol::ResponseError;

use crate::error::AgentError;
use crate::groups::GroupError;
use crate::produce::FlushError;
use crate::segment::batch::BatchError;
use crate::segment::records::{RecordsRefused, ScanError};

/// The Kafka error code for an agent error.
pub fn for_agent(err: &AgentError) -> i16 {
    let e = match err {
        AgentError::Metadata(m) => return for_metadata(m),
        AgentError::Batch(b) => return for_batch(b),
        AgentError::UnknownTopicOrPartition => ResponseError::UnknownTopicOrPartition,
        AgentError::OffsetOutOfRange => ResponseError::OffsetOutOfRange,
        AgentError::ShuttingDown => ResponseError::NotLeaderOrFollower,
        AgentError::ObjectStore(_)
        | AgentError::Segment(_)
        | AgentError::Corrupt(_)
        | AgentError::Archive(_)
        | AgentError::FlushFailed(_) => ResponseError::KafkaStorageError,
        AgentError::Config(_) => ResponseError::UnknownServerError,
    };
    e.code()
}

/// The Kafka error code for a metadata store error.
pub fn for_metadata(err: &MetadataError) -> i16 {
    let e = match err {
        MetadataError::TopicExists(_) => ResponseError::TopicAlreadyExists,
        MetadataError::UnknownTopic(_) => ResponseError::UnknownTopicOrPartition,
        MetadataError::PartitionsNotIncreased { .. } => ResponseError::InvalidPartitions,
        MetadataError::Invalid(_) => ResponseError::InvalidRequest,
        // Retriable: the client tries again, maybe on another agent.
        MetadataError::Database(_) | MetadataError::Migration(_) => {
            ResponseError::KafkaStorageError
        }
        // Only background jobs make fenced writes; no request should see it.
        MetadataError::UnsupportedUrl(_)
        | MetadataError::Corrupt(_)
        | MetadataError::LeaseLost(_) => ResponseError::UnknownServerError,
    };
    e.code()
}

/// The Kafka error code for a refused record batch.
pub fn for_batch(err: &BatchError) -> i16 {
    let e = match err {
        BatchError::Truncated | BatchError::CorruptCrc => ResponseError::CorruptMessage,
        // Kafka's answer to Produce v3+ with an older message format.
        BatchError::UnsupportedMagic(_) | BatchError::Invalid(_) => ResponseError::InvalidRecord,
        BatchError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
        // What Kafka's log answers a transactional batch no ongoing
        // transaction covers (its KIP-890 verification found none); one
        // without a producer id can be in none.
        BatchError::Transactional => ResponseError::InvalidTxnState,
        BatchError::LogAppendTime | BatchError::TimestampOutOfRange { .. } => {
            ResponseError::InvalidTimestamp
        }
        BatchError::Records(refused) => match refused {
            RecordsRefused::Timestamp { .. } => ResponseError::InvalidTimestamp,
            RecordsRefused::MissingKeys { .. } => ResponseError::InvalidRecord,
            RecordsRefused::Scan(ScanError::Invalid(_)) => ResponseError::InvalidRecord,
            RecordsRefused::Scan(ScanError::Corrupt(_)) => ResponseError::CorruptMessage,
            // A producer splits a batch refused as too large (the Java
            // client does) and sends the halves.
            RecordsRefused::Scan(ScanError::TooLarge(_)) => ResponseError::MessageTooLarge,
        },
    };
    e.code()
}

/// The Kafka error code for a failed flush.
pub fn for_flush(err: &FlushError) -> i16 {
    let e = match err {
        FlushError::UnknownPartition => ResponseError::UnknownTopicOrPartition,
        FlushError::Storage(_) => ResponseError::KafkaStorageError,
        FlushError::ShuttingDown => ResponseError::NotLeaderOrFollower,
        FlushError::OutOfOrderSequence => ResponseError::OutOfOrderSequenceNumber,
        FlushError::InvalidProducerEpoch => ResponseError::InvalidProducerEpoch,
        FlushError::OutcomeUnknown => ResponseError::RequestTimedOut,
        FlushError::InvalidRecord => ResponseError::InvalidRecord,
        FlushError::InvalidTxnState => ResponseError::InvalidTxnState,
    };
    e.code()
}

/// The Kafka error code for a refused group operation.
pub fn for_group(err: GroupError) -> i16 {
    let e = match err {
        GroupError::NotCoordinator => ResponseError::NotCoordinator,
        GroupError::LoadInProgress => ResponseError::CoordinatorLoadInProgress,
        GroupError::CoordinatorNotAvailable => ResponseError::CoordinatorNotAvailable,
        GroupError::InvalidGroupId => ResponseError::InvalidGroupId,
        GroupError::UnknownMemberId => ResponseError::UnknownMemberId,
        GroupError::IllegalGeneration => ResponseError::IllegalGeneration,
        GroupError::RebalanceInProgress => ResponseError::RebalanceInProgress,
        GroupError::MemberIdRequired => ResponseError::MemberIdRequired,
        GroupError::FencedInstanceId => ResponseError::FencedInstanceId,
        GroupError::InconsistentGroupProtocol => ResponseError::InconsistentGroupProtocol,
        GroupError::InvalidSessionTimeout => ResponseError::InvalidSessionTimeout,
        GroupError::GroupMaxSizeReached => ResponseError::GroupMaxSizeReached,
        GroupError::NonEmptyGroup => ResponseError::NonEmptyGroup,
        GroupError::GroupIdNotFound => ResponseError::GroupIdNotFound,
        GroupError::GroupSubscribedToTopic => ResponseError::GroupSubscribedToTopic,
        GroupError::OffsetMetadataTooLarge => ResponseError::OffsetMetadataTooLarge,
    };
    e.code()
}

/// The Kafka error code for a refused transactional request. Requests of
/// versions that predate PRODUCER_FENCED (KIP-588) get
/// INVALID_PRODUCER_EPOCH instead, as Kafka answers them: `fenced_known`
/// says whether the request's version knows it.
pub fn for_txn(err: &crate::txn::TxnError, fenced_known: bool) -> i16 {
    use crate::txn::TxnError;
    let e = match err {
        TxnError::InvalidProducerIdMapping => ResponseError::InvalidProducerIdMapping,
        TxnError::ProducerFenced if fenced_known => ResponseError::ProducerFenced,
        TxnError::ProducerFenced => ResponseError::InvalidProducerEpoch,
        TxnError::ConcurrentTransactions => ResponseError::ConcurrentTransactions,
        TxnError::InvalidTxnState => ResponseError::InvalidTxnState,
        TxnError::InvalidTransactionTimeout => ResponseError::InvalidTransactionTimeout,
        TxnError::InvalidRequest => ResponseError::InvalidRequest,
        // Transactional clients retry on this one, after looking for
        // their coordinator again.
        TxnError::Store(MetadataError::Database(_)) => ResponseError::CoordinatorNotAvailable,
        TxnError::Store(e) => return for_metadata(e),
        // The transaction stays prepared; the client looks for its
        // coordinator again and retries, which finishes it.
        TxnError::Markers(_) => ResponseError::CoordinatorNotAvailable,
    };
    e.code()
}
