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
    /// A stored value could not be decoded (a bug or a corrupted database).
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
}

/// Result with [`MetadataError`].
pub type Result<T, E = MetadataError> = std::result::Result<T, E>;
