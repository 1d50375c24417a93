//! Object storage: the store named by a URL, the keys of segment files, and
//! a metered facade that counts every request (the object-store bill).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use uuid::Uuid;

use crate::error::{AgentError, Result};
use crate::metrics::Metrics;

/// The object key of a segment file: `segments/<xx>/<segment id>.seg`. The
/// two-hex-digit folder is a hash of the id and spreads keys over 256
/// prefixes, because S3 scales request rates per prefix (ids alone are
/// time-ordered and would pile up under one prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentKey(String);

impl SegmentKey {
    /// The key of segment `id`.
    pub fn for_segment(id: Uuid) -> Self {
        let spread = crc32c::crc32c(id.as_bytes()) & 0xff;
        Self(format!("segments/{spread:02x}/{id}.seg"))
    }

    /// A key as stored in the metadata store.
    pub fn from_stored(key: String) -> Self {
        Self(key)
    }

    /// The key of an archive Parquet file of `topic`:
    /// `archive/<topic>/data/<partition>-<base offset>-<last offset>-<id>.parquet`
    /// (offsets zero-padded, so a listing sorts by partition and offset).
    pub fn for_archive_file(topic: &str, partition: i32, base: i64, last: i64, id: Uuid) -> Self {
        Self(format!(
            "{}data/{partition:05}-{base:020}-{last:020}-{id}.parquet",
            archive_root(topic)
        ))
    }

    /// A key under the Iceberg metadata folder of `topic`'s archive.
    pub fn for_archive_metadata(topic: &str, file: &str) -> Self {
        Self(format!("{}metadata/{file}", archive_root(topic)))
    }

    /// Whether the key names a Parquet file of the archive (whose index
    /// rows point at row groups, not at batches).
    pub fn is_archive(&self) -> bool {
        self.0.starts_with(ARCHIVE_PREFIX) && self.0.ends_with(".parquet")
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segment id this key was made for, `None` for a key that is not
    /// exactly what [`SegmentKey::for_segment`] makes (so nothing else is
    /// ever taken for a segment).
    pub fn segment_id(&self) -> Option<Uuid> {
        let name = self.0.rsplit('/').next()?.strip_suffix(".seg")?;
        let id = Uuid::try_parse(name).ok()?;
        (Self::for_segment(id) == *self).then_some(id)
    }

    /// The folder of segment keys whose spread is `spread`
    /// (`segments/<xx>`): the unit the orphan sweep lists.
    pub fn folder(spread: u8) -> String {
        format!("segments/{spread:02x}")
    }
}

/// Where the archive tier lies in the object store.
pub const ARCHIVE_PREFIX: &str = "archive/";

/// The folder of `topic`'s archive: `archive/<topic>/` (its Iceberg table
/// location).
pub fn archive_root(topic: &str) -> String {
    format!("{ARCHIVE_PREFIX}{topic}/")
}

impl fmt::Display for SegmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The root of the object store named by `url` as an absolute URI, the
/// prefix of the locations Iceberg metadata gives its files: `file://` with
/// the folder made absolute, `s3://BUCKET/PREFIX` as given.
pub fn root_uri(url: &str) -> Result<String> {
    if let Some(path) = url.strip_prefix("file://") {
        let absolute = std::fs::canonicalize(path)
            .map_err(|e| AgentError::Config(format!("cannot resolve object folder {path}: {e}")))?;
        return Ok(format!("file://{}", absolute.display()));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Opens the object store named by `url`:
/// - `file://PATH`: a local folder, created if missing, with fsync on every
///   write so an acknowledged record survives a power cut;
/// - `s3://BUCKET[/PREFIX]`: S3 or any S3-compatible server (MinIO),
///   configured from the standard `AWS_*` variables (see [`open_s3`]);
/// - `memory://`: in memory, for tests.
pub fn open_object_store(url: &str) -> Result<Arc<dyn ObjectStore>> {
    if let Some(rest) = url.strip_prefix("s3://") {
        return open_s3(rest);
    }
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
        "unsupported object store url {url}: expected file://PATH, s3://BUCKET/PREFIX or memory://"
    )))
}

/// Opens `s3://BUCKET[/PREFIX]` (given without the scheme). Credentials,
/// region and endpoint come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`) and
/// `AWS_ENDPOINT_URL` (for MinIO and other S3-compatible servers; plain
/// HTTP is allowed when the endpoint is `http://`). Requests are retried
/// with exponential backoff and jitter on 5xx answers, throttling (SlowDown)
/// and timeouts.
fn open_s3(bucket_and_prefix: &str) -> Result<Arc<dyn ObjectStore>> {
    let (bucket, prefix) = match bucket_and_prefix.split_once('/') {
        Some((b, p)) => (b, p.trim_matches('/')),
        None => (bucket_and_prefix, ""),
    };
    if bucket.is_empty() {
        return Err(AgentError::Config(
            "s3 url names no bucket: expected s3://BUCKET/PREFIX".into(),
        ));
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .or_else(|_| std::env::var("AWS_ENDPOINT"))
        .ok();
    let plain_http = endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"));
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: 8,
        retry_timeout: Duration::from_secs(60),
    };
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry)
        .with_client_options(
            ClientOptions::new()
                .with_allow_http(plain_http)
                .with_timeout(Duration::from_secs(30))
                .with_connect_timeout(Duration::from_secs(5)),
        );
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    let s3 = builder.build()?;
    if prefix.is_empty() {
        return Ok(Arc::new(s3));
    }
    Ok(Arc::new(PrefixStore::new(s3, prefix)))
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
        if key.is_archive() {
            self.metrics.archive_read_bytes.inc_by(data.len() as u64);
        }
        Ok(data)
    }

    /// Every object under `folder` (see [`SegmentKey::folder`]), as the
    /// store lists them (in no particular order), with the time each was
    /// last written in ms since the epoch. Each 1,000 listed count as one
    /// `list` request (S3 lists a page of 1,000 per request).
    pub fn list_folder(&self, folder: &str) -> BoxStream<'static, Result<(SegmentKey, i64)>> {
        let metrics = self.metrics.clone();
        let mut listed = 0u64;
        self.store
            .list(Some(&Path::from(folder)))
            .map(move |meta| {
                if listed.is_multiple_of(1_000) {
                    metrics.object_requests.with_label_values(&["list"]).inc();
                }
                listed += 1;
                let meta = meta?;
                let key = SegmentKey::from_stored(meta.location.to_string());
                Ok((key, meta.last_modified.timestamp_millis()))
            })
            .boxed()
    }

    /// Reads the last `len` bytes of an object (all of it if shorter), and
    /// the object's size: a Parquet footer in one request.
    pub async fn get_suffix(&self, key: &SegmentKey, len: u64) -> Result<(Bytes, u64)> {
        let started = Instant::now();
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Suffix(len)),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&Path::from(key.as_str()), options)
            .await?;
        let size = result.meta.size;
        let data = result.bytes().await?;
        self.record("get_range", data.len(), started);
        self.metrics.archive_read_bytes.inc_by(data.len() as u64);
        Ok((data, size))
    }

    /// Whether an object exists (a HEAD request).
    pub async fn exists(&self, key: &SegmentKey) -> Result<bool> {
        let started = Instant::now();
        let found = match self.store.head(&Path::from(key.as_str())).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        self.record("head", 0, started);
        Ok(found)
    }

    /// Deletes a segment file; one already gone counts as deleted, so two
    /// collectors racing each other both succeed.
    pub async fn delete_segment(&self, key: &SegmentKey) -> Result<()> {
        let started = Instant::now();
        match self.store.delete(&Path::from(key.as_str())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.record("delete", 0, started);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_key_gives_back_its_id_and_nothing_else_does() {
        let id = Uuid::now_v7();
        let key = SegmentKey::for_segment(id);
        assert_eq!(key.segment_id(), Some(id));
        assert!(key.as_str().starts_with(&SegmentKey::folder(
            u8::from_str_radix(&key.as_str()[9..11], 16).unwrap()
        )));
        for other in [
            "segments/00/not-a-uuid.seg".to_string(),
            format!("segments/zz/{id}.seg"),
            format!("segments/{id}.seg"),
            format!("{}.tmp", key.as_str()),
            format!("archive/t/{id}.seg"),
        ] {
            assert_eq!(
                SegmentKey::from_stored(other.clone()).segment_id(),
                None,
                "{other}"
            );
        }
    }
}
