//! The state every request handler shares.

use std::sync::Arc;

use floe_metadata::MetadataStore;
use tokio::sync::watch;

use crate::cluster::topics::Topics;
use crate::fetch::LogReader;
use crate::metrics::Metrics;
use crate::produce::Producer;

/// Who this agent is, as told to clients.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Broker id.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Zone, reported as the rack.
    pub rack: Option<String>,
    /// Cluster id.
    pub cluster_id: String,
}

/// Shared by all connections of one agent.
#[derive(Debug)]
pub struct AgentContext {
    /// This agent.
    pub identity: Identity,
    /// Topic catalogue.
    pub topics: Topics,
    /// The write path.
    pub producer: Producer,
    /// The read path.
    pub reader: LogReader,
    /// The metadata store, for what has no better home.
    pub store: Arc<dyn MetadataStore>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Bumped after each commit; long-polling fetches wait on it.
    pub commits: Arc<watch::Sender<u64>>,
    /// Largest request frame accepted.
    pub max_frame_bytes: usize,
}
