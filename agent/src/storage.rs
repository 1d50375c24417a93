//! Object storage: the store named by a URL, the keys of segment files, and
//! a metered facade that counts every request (the object-store bill).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

use crate::error::{AgentError, Result};
use crate::metrics::Metrics;

/// The object key of a segment file: `segments/<xx>/<segment id>.seg`. The
/// two-hex-digit folder comes from the random bits of the id and spreads
/// keys over 256 prefixes, because S3 scales request rates per prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentKey(String);

impl SegmentKey {
    /// The key of segment `id`.
    pub fn for_segment(id: Uuid) -> Self {
        let spread = id.as_bytes()[15];
        Self(format!("segments/{spread:02x}/{id}.seg"))
    }

    /// A key as stored in the metadata store.
    pub fn from_stored(key: String) -> Self {
        Self(key)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SegmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Opens the object store named by `url`: `file://PATH` (a local folder,
/// created if missing, with fsync on every write so an acknowledged record
/// survives a power cut) or `memory://` (tests).
pub fn open_object_store(url: &str) -> Result<Arc<dyn ObjectStore>> {
    if let Some(path) = url.strip_prefix("file://") {
        std::fs::create_dir_all(path)
            .map_err(|e| AgentError::Config(format!("cannot create object folder {path}: {e}")))?;
        let local = LocalFileSystem::new_with_prefix(path)?.with_fsync(true);
        return Ok(Arc::new(local));
    }
    if url == "memory://" || url == "memory:" {
        return Ok(Arc::new(InMemory::new()));
    }
    Err(AgentError::Config(format!(
        "unsupported object store url {url}: expected file://PATH or memory://"
    )))
}

/// The agent's view of object storage: typed keys and a metric for every
/// request, so operators see PUTs and GETs per byte.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    metrics: Arc<Metrics>,
}

impl ObjectStorage {
    /// Wraps `store`.
    pub fn new(store: Arc<dyn ObjectStore>, metrics: Arc<Metrics>) -> Self {
        Self { store, metrics }
    }

    fn record(&self, op: &str, bytes: usize, started: Instant) {
        self.metrics.object_requests.with_label_values(&[op]).inc();
        self.metrics
            .object_bytes
            .with_label_values(&[op])
            .inc_by(bytes as u64);
        self.metrics
            .object_seconds
            .with_label_values(&[op])
            .observe(started.elapsed().as_secs_f64());
    }

    /// Uploads a whole segment file.
    pub async fn put_segment(&self, key: &SegmentKey, data: Bytes) -> Result<()> {
        let started = Instant::now();
        let len = data.len();
        self.store
            .put(&Path::from(key.as_str()), PutPayload::from(data))
            .await?;
        self.record("put", len, started);
        Ok(())
    }

    /// Reads `range` of a segment file.
    pub async fn get_range(&self, key: &SegmentKey, range: Range<u64>) -> Result<Bytes> {
        let started = Instant::now();
        let data = self
            .store
            .get_range(&Path::from(key.as_str()), range)
            .await?;
        self.record("get_range", data.len(), started);
        Ok(data)
    }
}
