//! The databases the contract suite runs against. Each backend starts a
//! private, empty database and removes it when dropped.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use floe_metadata::MetadataStore;
use floe_tests::TestPostgres;

/// A database for one test.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Starts a fresh, empty database for the test named `test`.
    async fn start(test: &str) -> anyhow::Result<Self>
    where
        Self: Sized;

    /// Connects a new store to the database. Every store opened from one
    /// backend sees the same data; dropping a store and opening another is a
    /// restart of the agent.
    async fn open(&self) -> anyhow::Result<Arc<dyn MetadataStore>>;

    /// Whether the store offers commit notifications
    /// ([`MetadataStore::commit_notifications`]).
    fn notifies_commits(&self) -> bool {
        false
    }
}

/// A SQLite database file in a temporary directory.
#[derive(Debug)]
pub struct SqliteFile {
    _dir: tempfile::TempDir,
    url: String,
}

#[async_trait]
impl Backend for SqliteFile {
    async fn start(_test: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        // A folder that does not exist yet is not created for us; the file is.
        let url = format!("sqlite://{}", dir.path().join("metadata.db").display());
        Ok(SqliteFile { _dir: dir, url })
    }

    async fn open(&self) -> anyhow::Result<Arc<dyn MetadataStore>> {
        Ok(floe_metadata::open(&self.url).await?)
    }
}

/// A SQLite in-memory database. It lives as long as its store, so `open`
/// hands out the one store it made: a "reopen" here keeps the data but does
/// not test persistence (the file backend does).
#[derive(Debug)]
pub struct SqliteMemory {
    store: Arc<dyn MetadataStore>,
}

#[async_trait]
impl Backend for SqliteMemory {
    async fn start(_test: &str) -> anyhow::Result<Self> {
        let store = floe_metadata::open("sqlite::memory:").await?;
        Ok(SqliteMemory { store })
    }

    async fn open(&self) -> anyhow::Result<Arc<dyn MetadataStore>> {
        Ok(Arc::clone(&self.store))
    }
}

/// One Postgres server for the whole test binary, started by the first
/// test that needs it. Statics are never dropped: the server's watchdog
/// stops it and removes its directory when the test process exits.
static CLUSTER: OnceLock<Result<TestPostgres, String>> = OnceLock::new();

/// The shared server, started on first use.
fn cluster() -> anyhow::Result<&'static TestPostgres> {
    CLUSTER
        .get_or_init(|| TestPostgres::start().map_err(|error| format!("{error:#}")))
        .as_ref()
        .map_err(|error| anyhow::anyhow!("cannot start a test postgres: {error}"))
}

/// A fresh database, named after the test, on the shared Postgres server.
#[derive(Debug)]
pub struct Postgres {
    url: String,
}

#[async_trait]
impl Backend for Postgres {
    async fn start(test: &str) -> anyhow::Result<Self> {
        let test = test.to_string();
        let url = tokio::task::spawn_blocking(move || cluster()?.create_database(&test)).await??;
        Ok(Postgres { url })
    }

    async fn open(&self) -> anyhow::Result<Arc<dyn MetadataStore>> {
        Ok(floe_metadata::open(&self.url).await?)
    }

    fn notifies_commits(&self) -> bool {
        true
    }
}
