//! The metadata store's error type.

/// What can go wrong talking to the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// A topic with this name already exists.
    #[error("topic {0} already exists")]
    TopicExists(String),
    /// The topic (by name or id) does not exist.
    #[error("topic {0} does not exist")]
    UnknownTopic(String),
    /// A topic was asked to grow to a partition count that is not larger
    /// than the one it has (Kafka's INVALID_PARTITIONS).
    #[error("topic {topic} has {current} partitions; {requested} would not be an increase")]
    PartitionsNotIncreased {
        /// The topic's name.
        topic: String,
        /// Partitions it has.
        current: i32,
        /// Partitions asked for.
        requested: i32,
    },
    /// A request was malformed (bad partition count, bad name, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The URL names no supported database.
    #[error("unsupported metadata url {0}: expected sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    /// The database failed; retrying may help.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A background job's write was refused: its fence no longer holds the
    /// job's lease (it lapsed or another agent took it over).
    #[error("lease of job {0} lost")]
    LeaseLost(String),
    /// A stored value could not be decoded (a bug or a corrupted database).
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
}

impl MetadataError {
    /// A connection lost mid-request, as the database driver reports one:
    /// the outcome of the request is unknown. What fault injection returns.
    pub fn connection_lost(reason: impl Into<String>) -> Self {
        MetadataError::Database(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            reason.into(),
        )))
    }

    /// Whether the store refused the request for good: it answered, wrote
    /// nothing, and asking again would be refused again (a bad request, a
    /// constraint the request breaks, data it cannot read). Every other
    /// error leaves the outcome unknown or may pass (a lost connection, a
    /// timeout, a serialization failure, a busy database): an idempotent
    /// request is worth asking again.
    pub fn is_definitive(&self) -> bool {
        match self {
            MetadataError::TopicExists(_)
            | MetadataError::UnknownTopic(_)
            | MetadataError::PartitionsNotIncreased { .. }
            | MetadataError::Invalid(_)
            | MetadataError::UnsupportedUrl(_)
            | MetadataError::LeaseLost(_)
            | MetadataError::Corrupt(_) => true,
            MetadataError::Migration(_) => false,
            MetadataError::Database(error) => error.as_database_error().is_some_and(|e| {
                matches!(
                    e.kind(),
                    sqlx::error::ErrorKind::UniqueViolation
                        | sqlx::error::ErrorKind::ForeignKeyViolation
                        | sqlx::error::ErrorKind::NotNullViolation
                        | sqlx::error::ErrorKind::CheckViolation
                )
            }),
        }
    }
}

/// Result with [`MetadataError`].
pub type Result<T, E = MetadataError> = std::result::Result<T, E>;
