//! Picks the metadata store implementation from a URL.

use std::sync::Arc;

use crate::{MetadataError, MetadataStore, Result, SqliteStore};

/// Opens (and migrates) the metadata store named by `url`:
/// `sqlite://PATH` (created if missing) or `sqlite::memory:`.
pub async fn open(url: &str) -> Result<Arc<dyn MetadataStore>> {
    if url.starts_with("sqlite:") {
        return Ok(Arc::new(SqliteStore::connect(url).await?));
    }
    Err(MetadataError::UnsupportedUrl(url.to_string()))
}
