//! The state every request handler shares.

use std::sync::Arc;

use floe_metadata::MetadataStore;

use crate::authz::Authorizer;
use crate::cluster::registry::Registry;
use crate::cluster::topics::Topics;
use crate::configs::BrokerConfigs;
use crate::fetch::session::FetchSessions;
use crate::fetch::{LogReader, Watermarks};
use crate::groups::Coordinator;
use crate::kafka::limits::ConnectionSettings;
use crate::kafka::memory_pool::MemoryPool;
use crate::metrics::Metrics;
use crate::produce::Producer;
use crate::quotas::ClientQuotas;
use crate::sasl::Authenticator;
use crate::segment::batch::TimestampLimits;
use crate::tls::Certificates;
use crate::txn::TxnCoordinator;

/// Shared by all connections of one agent.
#[derive(Debug)]
pub struct AgentContext {
    /// Cluster id reported to clients.
    pub cluster_id: String,
    /// The one "log directory" DescribeLogDirs reports: the object store,
    /// by its URL (credentials masked).
    pub log_dir: String,
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
    /// The transaction coordinator.
    pub txn: TxnCoordinator,
    /// The metadata store, for what has no better home.
    pub store: Arc<dyn MetadataStore>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes long-polling fetches when their partitions move.
    pub watermarks: Arc<Watermarks>,
    /// Incremental fetch sessions (KIP-227) of this agent's clients.
    pub fetch_sessions: FetchSessions,
    /// Largest request frame accepted.
    pub max_frame_bytes: usize,
    /// The timestamp window of topics that set none of their own.
    pub timestamp_limits: TimestampLimits,
    /// Memory for request frames being read, shared by all connections.
    pub request_pool: Arc<MemoryPool>,
    /// Idle, read and write bounds of each connection.
    pub connection: ConnectionSettings,
    /// This agent's broker configs, the defaults of topic configs; the
    /// dynamic ones are refreshed from the store (`jobs/broker_configs.rs`).
    pub broker_configs: Arc<BrokerConfigs>,
    /// Certificates of the SSL and SASL_SSL listeners, if any.
    pub tls: Option<Arc<Certificates>>,
    /// SASL mechanisms of the SASL listeners, if any.
    pub sasl: Option<Arc<Authenticator>>,
    /// Client quotas in force and the rates measured against them; the
    /// quotas are refreshed from the store (`jobs/client_quotas.rs`).
    pub quotas: Arc<ClientQuotas>,
    /// Decides whether a session may do an operation on a resource (ACLs);
    /// allows everything when no authorizer is configured. The ACLs are
    /// refreshed from the store (`jobs/acls.rs`).
    pub authorizer: Authorizer,
}
