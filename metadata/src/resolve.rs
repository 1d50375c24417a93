//! Picks the metadata store implementation from a URL.

use std::sync::Arc;

use crate::{MetadataError, MetadataStore, PostgresStore, Result, SqliteStore};

/// Opens (and migrates) the metadata store named by `url`:
/// `sqlite://PATH` (created if missing), `sqlite::memory:`, or
/// `postgres://…` / `postgresql://…` (the database must exist).
pub async fn open(url: &str) -> Result<Arc<dyn MetadataStore>> {
    if url.starts_with("sqlite:") {
        return Ok(Arc::new(SqliteStore::connect(url).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresStore::connect(url).await?));
    }
    Err(MetadataError::UnsupportedUrl(url.to_string()))
}
