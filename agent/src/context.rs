//! The state every request handler shares.

use std::sync::Arc;

use floe_metadata::MetadataStore;
use tokio::sync::watch;

use crate::cluster::registry::Registry;
use crate::cluster::topics::Topics;
use crate::fetch::LogReader;
use crate::groups::Coordinator;
use crate::kafka::limits::ConnectionSettings;
use crate::kafka::memory_pool::MemoryPool;
use crate::metrics::Metrics;
use crate::produce::Producer;

/// Shared by all connections of one agent.
#[derive(Debug)]
pub struct AgentContext {
    /// Cluster id reported to clients.
    pub cluster_id: String,
    /// This agent and the other live agents.
    pub registry: Arc<Registry>,
    /// Topic catalogue.
    pub topics: Topics,
    /// The write path.
    pub producer: Producer,
    /// The read path.
    pub reader: LogReader,
    /// The consumer-group coordinator.
    pub groups: Coordinator,
    /// The metadata store, for what has no better home.
    pub store: Arc<dyn MetadataStore>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Bumped after each commit; long-polling fetches wait on it.
    pub commits: Arc<watch::Sender<u64>>,
    /// Largest request frame accepted.
    pub max_frame_bytes: usize,
    /// Memory for request frames being read, shared by all connections.
    pub request_pool: Arc<MemoryPool>,
    /// Idle, read and write bounds of each connection.
    pub connection: ConnectionSettings,
}
