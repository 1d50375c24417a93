//! The agent's configuration: one struct, loaded from a TOML file, then
//! `FLOE_*` environment variables, then command-line flags (clap reads the
//! variables and the flags; the file sits underneath both).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::segment::batch::TimestampLimits;

pub mod listeners;
mod security;

/// Most fetch sessions an agent may be told to keep: each holds up to a
/// request's worth of partitions, and the eviction choice scans them all.
const MAX_FETCH_SESSION_SLOTS: usize = 100_000;
/// Smallest `compaction_target_bytes`: below it a merged segment saves
/// little and costs a rewrite.
const MIN_COMPACTION_TARGET_BYTES: u64 = 64 * 1024;
/// Largest `compaction_target_bytes`: a pass holds its inputs and its
/// output in memory, about twice the target.
const MAX_COMPACTION_TARGET_BYTES: u64 = 1 << 30;

/// Everything `floe serve` can be told. Field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the Kafka listener binds.
    pub kafka_listen: SocketAddr,
    /// `host:port` given to clients in Metadata responses; defaults to
    /// `kafka_listen`.
    pub advertised_addr: Option<String>,
    /// Address of the HTTP server (`/metrics`, `/healthz`, `/readyz`).
    pub http_listen: SocketAddr,
    /// Folder for the embedded defaults (SQLite file, local objects).
    pub data_dir: PathBuf,
    /// Metadata store URL; defaults to `sqlite://<data_dir>/metadata.db`.
    pub metadata: Option<String>,
    /// Object store URL; defaults to `file://<data_dir>/objects`.
    pub object_store: Option<String>,
    /// Longest time a produced batch waits before its segment is flushed.
    /// Unset: 0 for local stores (`file://`, `memory://`), which charge
    /// nothing per write, meaning group commit (flush as soon as the
    /// previous flush is done); 100 for S3, where each flush is a paid PUT.
    pub flush_interval_ms: Option<u64>,
    /// Size at which the pending segment is flushed at once.
    pub flush_bytes: usize,
    /// Partitions of auto-created topics and of CreateTopics with -1.
    pub default_partitions: i32,
    /// Create unknown topics on first Metadata or Produce.
    pub auto_create_topics: bool,
    /// Availability zone of this agent, reported as the broker's rack.
    pub zone: Option<String>,
    /// Largest request frame accepted; a larger one closes the connection.
    pub max_frame_bytes: usize,
    /// Memory shared by all connections for request frames being read
    /// (Kafka's `queued.max.request.bytes`). Reserved as bytes arrive and
    /// returned once a request is admitted; when spent, connections stop
    /// reading until memory is returned. At least `max_frame_bytes` + 4; the
    /// default (112 MiB) lets one largest frame arrive while others are read,
    /// and with `cache_bytes` and `max_pending_bytes` keeps the agent under
    /// 512 MiB (see docs/operations.md, "Limits").
    pub queued_max_request_bytes: usize,
    /// Open Kafka connections at most; more are closed at accept (Kafka's
    /// `max.connections`).
    pub max_connections: usize,
    /// Open Kafka connections from one client address at most (Kafka's
    /// `max.connections.per.ip`).
    pub max_connections_per_ip: usize,
    /// A connection with no request in progress and nothing read for this
    /// long is closed (Kafka's `connections.max.idle.ms`).
    pub connections_max_idle_ms: u64,
    /// Longest time one request frame may take to arrive once it started,
    /// so a client sending a frame slowly cannot hold pool memory for ever.
    pub frame_read_timeout_ms: u64,
    /// A response write that makes no progress for this long closes the
    /// connection: the client stopped reading.
    pub response_write_timeout_ms: u64,
    /// Bytes of finished responses waiting for one client, above which the
    /// agent stops reading that connection's requests.
    pub max_queued_response_bytes: usize,
    /// Produce bytes held in memory awaiting commit before producers are
    /// slowed down (back-pressure).
    pub max_pending_bytes: usize,
    /// Segments uploaded at once; their commits still apply in order.
    pub max_inflight_flushes: usize,
    /// Bytes of segment data kept in memory for reads. With the pending
    /// budget and the buffers around them, the default keeps the agent's
    /// peak RSS under 512 MiB at full load (see docs/benchmarks.md).
    pub cache_bytes: usize,
    /// Cluster id reported to clients.
    pub cluster_id: String,
    /// Time between this agent's heartbeats in the metadata store.
    pub heartbeat_interval_ms: u64,
    /// An agent whose last heartbeat is older is no longer given to clients.
    pub agent_timeout_ms: u64,
    /// Fallback wake-up of long-polling fetches, for commits by other agents
    /// whose notification was lost.
    pub commit_poll_interval_ms: u64,
    /// How often the consumer-lag metrics of the groups this agent
    /// coordinates are refreshed (one metadata query per group).
    pub group_lag_interval_ms: u64,
    /// How often the segment collector looks for segments no index row
    /// points at any more (their topic was deleted) and deletes their
    /// objects.
    pub segment_gc_interval_ms: u64,
    /// How often the orphan sweep lists the next 16 of the bucket's 256
    /// segment folders for objects never committed (a full sweep takes 16
    /// passes).
    pub orphan_sweep_interval_ms: u64,
    /// Least age of a segment's commit before the collector may delete it:
    /// longer than any retry of a commit (at least `commit_retry_window_ms`
    /// plus the store's statement timeout), which would otherwise commit a
    /// forgotten segment again.
    pub segment_gc_grace_ms: u64,
    /// How often the compaction job looks for small segments to merge
    /// into large ones (one agent at a time runs it).
    pub compaction_interval_ms: u64,
    /// Largest segment compaction writes: small segments are merged until
    /// their live bytes reach it.
    pub compaction_target_bytes: u64,
    /// How often the log cleaner looks for compacted partitions
    /// (`cleanup.policy=compact`) to clean (one agent at a time runs it).
    pub log_cleaner_interval_ms: u64,
    /// How long the flusher retries a commit whose outcome is unknown (a
    /// lost connection, a timeout) before its producers are answered
    /// REQUEST_TIMED_OUT. Later flushes wait behind it, so producers slow
    /// down rather than have their records reordered.
    pub commit_retry_window_ms: u64,
    /// How long an idempotent producer that writes nothing keeps its state
    /// (sequence numbers) on a partition (Kafka's
    /// `producer.id.expiration.ms`).
    pub producer_id_expiration_ms: u64,
    /// How often expired producer state and old commit outcomes are pruned
    /// from the metadata store (Kafka's
    /// `producer.id.expiration.check.interval.ms`).
    pub producer_id_expiration_check_interval_ms: u64,
    /// Largest `transaction.timeout.ms` a transactional producer may ask
    /// (Kafka's `transaction.max.timeout.ms`); InitProducerId above it is
    /// INVALID_TRANSACTION_TIMEOUT.
    pub transaction_max_timeout_ms: u64,
    /// How long a transactional id without an open transaction is
    /// remembered (Kafka's `transactional.id.expiration.ms`).
    pub transactional_id_expiration_ms: u64,
    /// How often the `transactions` job aborts transactions past their
    /// timeout and forgets idle transactional ids (Kafka's
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`).
    pub transaction_check_interval_ms: u64,
    /// At shutdown, how long the agent keeps serving after it left the
    /// registry (and `/readyz` turned 503), so clients move to other agents
    /// before connections close.
    pub shutdown_drain_ms: u64,
    /// Test-only fault injection into the object and metadata stores, e.g.
    /// `put_error=0.1,commit_lost=0.05,latency_ms=20,seed=7` (see
    /// `agent/src/faults.rs`). Unset (the default): no faults.
    pub fault_injection: Option<String>,
    /// How often time-based retention runs (Kafka's
    /// `log.retention.check.interval.ms`).
    pub retention_check_interval_ms: u64,
    /// How often the archive job (one agent at a time, under a lease)
    /// looks for ranges of topics with `floe.archive.enabled=true` older
    /// than their `floe.archive.after.ms`, and archives them to Parquet.
    pub archive_interval_ms: u64,
    /// Whether topics without a `floe.archive.enabled` of their own are
    /// archived (broker config `floe.archive.enabled`).
    pub archive_enabled: bool,
    /// Age of records archived, for topics without a
    /// `floe.archive.after.ms` of their own (7 days).
    pub archive_after_ms: i64,
    /// Whether archived ranges drop their segments, for topics without a
    /// `floe.archive.drop.segments` of their own.
    pub archive_drop_segments: bool,
    /// Retention of topics without a `retention.ms` of their own; negative
    /// keeps every record (Kafka's broker default is 7 days; Floe keeps
    /// data until told otherwise).
    pub default_retention_ms: i64,
    /// Size retention of topics without a `retention.bytes` of their own,
    /// per partition; negative keeps every record (Kafka's
    /// `log.retention.bytes`, whose default is -1 too).
    pub default_retention_bytes: i64,
    /// Largest age of a CreateTime timestamp accepted from producers, for
    /// topics without a `message.timestamp.before.max.ms` of their own
    /// (Kafka's `log.message.timestamp.before.max.ms`; 4.x default: no
    /// limit).
    pub message_timestamp_before_max_ms: i64,
    /// Largest lead of a CreateTime timestamp over the agent's clock, for
    /// topics without a `message.timestamp.after.max.ms` of their own
    /// (Kafka's `log.message.timestamp.after.max.ms`; 4.x default: one
    /// hour). Retention believes timestamps up to this far ahead.
    pub message_timestamp_after_max_ms: i64,
    /// Shortest session timeout a consumer group member may ask for
    /// (Kafka's `group.min.session.timeout.ms`); shorter ones get
    /// INVALID_SESSION_TIMEOUT.
    pub group_min_session_timeout_ms: u64,
    /// Longest session timeout a consumer group member may ask for
    /// (Kafka's `group.max.session.timeout.ms`).
    pub group_max_session_timeout_ms: u64,
    /// How long the first rebalance of an empty group waits for more
    /// members (Kafka's `group.initial.rebalance.delay.ms`).
    pub group_initial_rebalance_delay_ms: u64,
    /// Most members a consumer group may have; a new one beyond it gets
    /// GROUP_MAX_SIZE_REACHED (Kafka's `group.max.size`).
    pub group_max_size: u32,
    /// Largest record batch accepted (after compression) by topics without
    /// a `max.message.bytes` of their own (Kafka's `message.max.bytes`);
    /// a larger batch is refused MESSAGE_TOO_LARGE.
    pub message_max_bytes: i32,
    /// Incremental fetch sessions (KIP-227) this agent keeps at most
    /// (Kafka's `max.incremental.fetch.session.cache.slots`); 0 keeps none,
    /// and every consumer sends full fetch requests. Each session holds at
    /// most the partitions one request of `max_frame_bytes` could carry.
    pub max_incremental_fetch_session_cache_slots: usize,
    /// Kafka listeners, `PROTOCOL://host:port,…` (PLAINTEXT, SSL,
    /// SASL_PLAINTEXT, SASL_SSL); unset: one PLAINTEXT listener on
    /// `kafka_listen`. Not together with `kafka_listen`/`advertised_addr`.
    pub listeners: Option<String>,
    /// The address clients are told for each listener, in the same form;
    /// unset: each listener's bound address.
    pub advertised_listeners: Option<String>,
    /// PEM certificate chain of the SSL and SASL_SSL listeners (and of the
    /// HTTP listener with `http_tls`); re-read when the file changes.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates; when set, TLS clients must present a
    /// certificate they signed (Kafka's `ssl.client.auth=required`) and an
    /// SSL connection's principal is its subject.
    pub tls_client_ca: Option<PathBuf>,
    /// Serve the HTTP listener (metrics, health) over TLS with `tls_cert`.
    pub http_tls: bool,
    /// SASL mechanisms of the SASL_* listeners, comma-separated: PLAIN,
    /// SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (Kafka's
    /// `sasl.enabled.mechanisms`).
    pub sasl_mechanisms: String,
    /// JWKS file whose keys sign OAUTHBEARER tokens; re-read when it changes.
    pub oauth_jwks_file: Option<PathBuf>,
    /// JWKS endpoint whose keys sign OAUTHBEARER tokens (Kafka's
    /// `sasl.oauthbearer.jwks.endpoint.url`): `https://`, `http://`, or
    /// `file://` for a file (as `oauth_jwks_file`).
    pub oauth_jwks_url: Option<String>,
    /// How often the JWKS endpoint is fetched again, in ms (Kafka's
    /// `sasl.oauthbearer.jwks.endpoint.refresh.ms`); also fetched when a
    /// token names an unknown `kid`.
    pub oauth_jwks_refresh_ms: u64,
    /// The `aud` an OAUTHBEARER token must name, if set.
    pub oauth_expected_audience: Option<String>,
    /// The `iss` an OAUTHBEARER token must have, if set.
    pub oauth_expected_issuer: Option<String>,
    /// Longest SASL session before the client must re-authenticate on its
    /// connection (KIP-368, Kafka's `connections.max.reauth.ms`); 0: never.
    pub connections_max_reauth_ms: u64,
    /// Windows a client's rate is measured over for its quota (Kafka's
    /// `quota.window.num`).
    pub quota_window_num: usize,
    /// Length of one such window, in seconds (Kafka's
    /// `quota.window.size.seconds`).
    pub quota_window_size_seconds: u64,
    /// Clients whose rates are tracked per quota kind at most; beyond it
    /// the least recently seen client's rate is dropped (it starts afresh).
    /// Each costs a few hundred bytes.
    pub quota_max_tracked_clients: usize,
    /// The authorizer: `acl` (ACLs in the metadata store, Kafka's
    /// `StandardAuthorizer`) or unset (none: every request is allowed).
    pub authorizer: Option<String>,
    /// Principals allowed everything, `;`-separated (Kafka's
    /// `super.users`: `User:admin;User:CN=ops,O=Acme`).
    pub super_users: Option<String>,
    /// Allow an action on a resource no ACL names (Kafka's
    /// `allow.everyone.if.no.acl.found`).
    pub allow_everyone_if_no_acl_found: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            kafka_listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
            advertised_addr: None,
            http_listen: SocketAddr::from(([127, 0, 0, 1], 9644)),
            data_dir: PathBuf::from("floe-data"),
            metadata: None,
            object_store: None,
            flush_interval_ms: None,
            flush_bytes: 8 * 1024 * 1024,
            default_partitions: 1,
            auto_create_topics: true,
            zone: None,
            max_frame_bytes: 100 * 1024 * 1024,
            queued_max_request_bytes: 112 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_ip: 10_000,
            connections_max_idle_ms: 600_000,
            frame_read_timeout_ms: 60_000,
            response_write_timeout_ms: 60_000,
            max_queued_response_bytes: 16 * 1024 * 1024,
            max_pending_bytes: 64 * 1024 * 1024,
            max_inflight_flushes: 4,
            cache_bytes: 192 * 1024 * 1024,
            cluster_id: "floe".to_string(),
            heartbeat_interval_ms: 1_000,
            agent_timeout_ms: 5_000,
            commit_poll_interval_ms: 500,
            group_lag_interval_ms: 10_000,
            segment_gc_interval_ms: 60_000,
            orphan_sweep_interval_ms: 300_000,
            segment_gc_grace_ms: 3_600_000,
            compaction_interval_ms: 60_000,
            compaction_target_bytes: 64 * 1024 * 1024,
            log_cleaner_interval_ms: 15_000,
            commit_retry_window_ms: 300_000,
            producer_id_expiration_ms: 86_400_000,
            producer_id_expiration_check_interval_ms: 600_000,
            transaction_max_timeout_ms: 900_000,
            transactional_id_expiration_ms: 604_800_000,
            transaction_check_interval_ms: 10_000,
            shutdown_drain_ms: 1_000,
            fault_injection: None,
            retention_check_interval_ms: 300_000,
            archive_interval_ms: 60_000,
            archive_enabled: false,
            archive_after_ms: 604_800_000,
            archive_drop_segments: false,
            default_retention_ms: -1,
            default_retention_bytes: -1,
            message_timestamp_before_max_ms: TimestampLimits::default().before_max_ms,
            message_timestamp_after_max_ms: TimestampLimits::default().after_max_ms,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            group_initial_rebalance_delay_ms: 3_000,
            group_max_size: i32::MAX as u32,
            message_max_bytes: 1_048_588,
            max_incremental_fetch_session_cache_slots: 1000,
            listeners: None,
            advertised_listeners: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            http_tls: false,
            sasl_mechanisms: crate::sasl::DEFAULT_MECHANISMS.to_string(),
            oauth_jwks_file: None,
            oauth_jwks_url: None,
            oauth_jwks_refresh_ms: 3_600_000,
            oauth_expected_audience: None,
            oauth_expected_issuer: None,
            connections_max_reauth_ms: 0,
            quota_window_num: 11,
            quota_window_size_seconds: 1,
            quota_max_tracked_clients: 100_000,
            authorizer: None,
            super_users: None,
            allow_everyone_if_no_acl_found: false,
        }
    }
}

impl Config {
    /// Reads a TOML config file.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AgentError::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| AgentError::Config(format!("bad config file {}: {e}", path.display())))
    }

    /// The metadata store URL, with the embedded default filled in.
    pub fn metadata_url(&self) -> String {
        self.metadata
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("metadata.db").display()))
    }

    /// The object store URL, with the embedded default filled in.
    pub fn object_store_url(&self) -> String {
        self.object_store
            .clone()
            .unwrap_or_else(|| format!("file://{}", self.data_dir.join("objects").display()))
    }

    /// The name DescribeLogDirs gives the agent's one log directory: the
    /// object store URL, any password in it masked.
    pub fn log_dir(&self) -> String {
        mask_password(&self.object_store_url())
    }

    /// The flush interval in effect: the configured one, or the default of
    /// the object store (see [`Config::flush_interval_ms`]).
    pub fn effective_flush_interval_ms(&self) -> u64 {
        self.flush_interval_ms.unwrap_or_else(|| {
            if self.object_store_url().starts_with("s3://") {
                100
            } else {
                0
            }
        })
    }

    /// The `(host, port)` clients are told to connect to.
    pub fn advertised(&self) -> Result<(String, i32)> {
        let Some(addr) = &self.advertised_addr else {
            return Ok((
                self.kafka_listen.ip().to_string(),
                i32::from(self.kafka_listen.port()),
            ));
        };
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| AgentError::Config(format!("advertised address {addr} lacks a port")))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| AgentError::Config(format!("advertised address {addr}: bad port")))?;
        Ok((host.trim_matches(['[', ']']).to_string(), i32::from(port)))
    }

    /// Checks values that would make the agent misbehave.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(AgentError::Config(m.to_string()));
        if self.default_partitions < 1 {
            return fail("default_partitions must be at least 1");
        }
        if self.group_min_session_timeout_ms > self.group_max_session_timeout_ms
            || self.group_max_session_timeout_ms > i32::MAX as u64
        {
            return fail(
                "group_min_session_timeout_ms must not exceed group_max_session_timeout_ms, \
                 which must fit a 32-bit session timeout",
            );
        }
        if self.group_max_size == 0 {
            return fail("group_max_size must be at least 1");
        }
        if self.flush_bytes == 0 {
            return fail("flush_bytes must be positive");
        }
        if self.max_frame_bytes < 1024 {
            return fail("max_frame_bytes must be at least 1024");
        }
        if self.queued_max_request_bytes < self.max_frame_bytes.saturating_add(4) {
            return fail("queued_max_request_bytes must be at least max_frame_bytes + 4");
        }
        if self.max_connections == 0 || self.max_connections_per_ip == 0 {
            return fail("max_connections and max_connections_per_ip must be at least 1");
        }
        if self.connections_max_idle_ms == 0
            || self.frame_read_timeout_ms == 0
            || self.response_write_timeout_ms == 0
        {
            return fail(
                "connections_max_idle_ms, frame_read_timeout_ms and response_write_timeout_ms must be positive",
            );
        }
        if self.max_queued_response_bytes == 0 {
            return fail("max_queued_response_bytes must be positive");
        }
        if self.max_inflight_flushes == 0 {
            return fail("max_inflight_flushes must be at least 1");
        }
        if self.heartbeat_interval_ms == 0 || self.agent_timeout_ms <= self.heartbeat_interval_ms {
            return fail("agent_timeout_ms must exceed a positive heartbeat_interval_ms");
        }
        if self.commit_poll_interval_ms == 0 {
            return fail("commit_poll_interval_ms must be positive");
        }
        if self.group_lag_interval_ms == 0 {
            return fail("group_lag_interval_ms must be positive");
        }
        if self.segment_gc_interval_ms == 0 || self.orphan_sweep_interval_ms == 0 {
            return fail("segment_gc_interval_ms and orphan_sweep_interval_ms must be positive");
        }
        if self.log_cleaner_interval_ms == 0 {
            return fail("log_cleaner_interval_ms must be positive");
        }
        if self.compaction_interval_ms == 0 {
            return fail("compaction_interval_ms must be positive");
        }
        if !(MIN_COMPACTION_TARGET_BYTES..=MAX_COMPACTION_TARGET_BYTES)
            .contains(&self.compaction_target_bytes)
        {
            return fail("compaction_target_bytes must be between 64 KiB and 1 GiB");
        }
        if self.retention_check_interval_ms == 0 {
            return fail("retention_check_interval_ms must be positive");
        }
        if self.archive_interval_ms == 0 {
            return fail("archive_interval_ms must be positive");
        }
        if self.archive_after_ms < 0 {
            return fail("archive_after_ms must not be negative");
        }
        if !(1..=i32::MAX as u64).contains(&self.transaction_max_timeout_ms) {
            return fail("transaction_max_timeout_ms must be 1 to 2147483647");
        }
        if self.transactional_id_expiration_ms == 0
            || self.transactional_id_expiration_ms > i64::MAX as u64
        {
            return fail("transactional_id_expiration_ms must be positive");
        }
        if self.transaction_check_interval_ms == 0 {
            return fail("transaction_check_interval_ms must be positive");
        }
        if self.producer_id_expiration_check_interval_ms == 0 {
            return fail("producer_id_expiration_check_interval_ms must be positive");
        }
        // On Postgres an abandoned attempt may go on in the server for up
        // to its statement timeout; on SQLite it runs in this process, and a
        // retry queues behind it.
        let server_side = if self.metadata_url().starts_with("postgres") {
            floe_metadata::STATEMENT_TIMEOUT.as_millis() as u64
        } else {
            0
        };
        let retry_window = self.commit_retry_window_ms.saturating_add(server_side);
        if self.segment_gc_grace_ms < retry_window {
            return Err(AgentError::Config(format!(
                "segment_gc_grace_ms ({}) must be at least commit_retry_window_ms plus the \
                 metadata statement timeout ({retry_window}): a commit retried after its \
                 segment was collected would point at a deleted object",
                self.segment_gc_grace_ms
            )));
        }
        if let Some(spec) = &self.fault_injection {
            crate::faults::FaultSpec::parse(spec).map_err(|e| AgentError::Config(e.to_string()))?;
        }
        if self.message_timestamp_before_max_ms < 0 || self.message_timestamp_after_max_ms < 0 {
            return fail(
                "message_timestamp_before_max_ms and message_timestamp_after_max_ms must not be negative",
            );
        }
        if self.message_max_bytes < 0 {
            return fail("message_max_bytes must not be negative");
        }
        if self.max_incremental_fetch_session_cache_slots > MAX_FETCH_SESSION_SLOTS {
            return Err(AgentError::Config(format!(
                "max_incremental_fetch_session_cache_slots must be at most {MAX_FETCH_SESSION_SLOTS}"
            )));
        }
        if self.max_pending_bytes < self.flush_bytes {
            return fail("max_pending_bytes must be at least flush_bytes");
        }
        if !(2..=1000).contains(&self.quota_window_num)
            || !(1..=3600).contains(&self.quota_window_size_seconds)
        {
            return fail(
                "quota_window_num must be 2 to 1000 and quota_window_size_seconds 1 to 3600",
            );
        }
        if self.quota_max_tracked_clients == 0 {
            return fail("quota_max_tracked_clients must be at least 1");
        }
        self.advertised().map(|_| ())?;
        self.authorizer_settings()?;
        self.validate_security()
    }

    /// The timestamp window of topics that set none of their own.
    pub fn timestamp_limits(&self) -> TimestampLimits {
        TimestampLimits {
            before_max_ms: self.message_timestamp_before_max_ms,
            after_max_ms: self.message_timestamp_after_max_ms,
        }
    }

    /// The configuration as TOML with secrets in URLs masked, for the
    /// start-up log.
    pub fn redacted(&self) -> String {
        let mut shown = self.clone();
        shown.metadata = Some(mask_password(&self.metadata_url()));
        shown.object_store = Some(mask_password(&self.object_store_url()));
        toml::to_string(&shown).unwrap_or_else(|e| format!("<unprintable config: {e}>"))
    }
}

/// Replaces the password of a `scheme://user:password@host` URL by `****`.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_rejects_unknown_keys() {
        let c: Config = toml::from_str("flush_interval_ms = 7\ndefault_partitions = 4").unwrap();
        assert_eq!(c.flush_interval_ms, Some(7));
        assert_eq!(c.default_partitions, 4);
        assert_eq!(c.flush_bytes, Config::default().flush_bytes);
        assert!(toml::from_str::<Config>("flush_intervl_ms = 7").is_err());
    }

    #[test]
    fn flush_interval_defaults_to_the_stores_economics() {
        assert_eq!(Config::default().effective_flush_interval_ms(), 0);
        let s3 = Config {
            object_store: Some("s3://b/p".into()),
            ..Config::default()
        };
        assert_eq!(s3.effective_flush_interval_ms(), 100);
        let set = Config {
            flush_interval_ms: Some(250),
            ..s3
        };
        assert_eq!(set.effective_flush_interval_ms(), 250);
    }

    #[test]
    fn compaction_settings_are_bounded() {
        let c: Config =
            toml::from_str("compaction_interval_ms = 500\ncompaction_target_bytes = 65536")
                .unwrap();
        assert_eq!(
            (c.compaction_interval_ms, c.compaction_target_bytes),
            (500, 65536)
        );
        assert!(c.validate().is_ok());
        assert_eq!(Config::default().compaction_target_bytes, 64 << 20);
        for (interval, target) in [(0, 1 << 20), (1, 65535), (1, (1 << 30) + 1)] {
            let bad = Config {
                compaction_interval_ms: interval,
                compaction_target_bytes: target,
                ..Config::default()
            };
            assert!(bad.validate().is_err(), "{interval} {target}");
        }
    }

    #[test]
    fn log_cleaner_interval_is_positive() {
        assert_eq!(Config::default().log_cleaner_interval_ms, 15_000);
        let c: Config = toml::from_str("log_cleaner_interval_ms = 200").unwrap();
        assert_eq!(c.log_cleaner_interval_ms, 200);
        assert!(c.validate().is_ok());
        let zero = Config {
            log_cleaner_interval_ms: 0,
            ..Config::default()
        };
        assert!(zero.validate().is_err());
    }

    #[test]
    fn gc_grace_must_outlast_commit_retries() {
        let sqlite = Config {
            segment_gc_grace_ms: 1_000,
            commit_retry_window_ms: 1_000,
            ..Config::default()
        };
        assert!(sqlite.validate().is_ok());
        let postgres = Config {
            metadata: Some("postgres://db/floe".into()),
            ..sqlite.clone()
        };
        assert!(postgres.validate().is_err());
        let short = Config {
            segment_gc_grace_ms: 999,
            ..sqlite
        };
        assert!(short.validate().is_err());
        assert!(Config::default().validate().is_ok());
        let bad_faults = Config {
            fault_injection: Some("put_error=7".into()),
            ..Config::default()
        };
        assert!(bad_faults.validate().is_err());
    }

    #[test]
    fn fetch_session_slots_are_bounded() {
        assert_eq!(
            Config::default().max_incremental_fetch_session_cache_slots,
            1000
        );
        let none = Config {
            max_incremental_fetch_session_cache_slots: 0,
            ..Config::default()
        };
        assert!(none.validate().is_ok(), "0 turns sessions off");
        let huge = Config {
            max_incremental_fetch_session_cache_slots: MAX_FETCH_SESSION_SLOTS + 1,
            ..Config::default()
        };
        assert!(huge.validate().is_err());
    }

    #[test]
    fn connection_limits_are_validated() {
        assert!(Config::default().validate().is_ok());
        let small_pool = Config {
            queued_max_request_bytes: Config::default().max_frame_bytes,
            ..Config::default()
        };
        assert!(
            small_pool.validate().is_err(),
            "a whole frame must fit the pool"
        );
        let no_connections = Config {
            max_connections_per_ip: 0,
            ..Config::default()
        };
        assert!(no_connections.validate().is_err());
        let no_idle = Config {
            connections_max_idle_ms: 0,
            ..Config::default()
        };
        assert!(no_idle.validate().is_err());
    }

    #[test]
    fn group_settings_are_validated() {
        let c: Config = toml::from_str(
            "group_min_session_timeout_ms = 3000\ngroup_max_size = 5\ngroup_initial_rebalance_delay_ms = 0",
        )
        .unwrap();
        assert_eq!(
            (
                c.group_min_session_timeout_ms,
                c.group_max_size,
                c.group_initial_rebalance_delay_ms
            ),
            (3000, 5, 0)
        );
        assert!(c.validate().is_ok());
        let crossed = Config {
            group_min_session_timeout_ms: 10_000,
            group_max_session_timeout_ms: 5_000,
            ..Config::default()
        };
        assert!(crossed.validate().is_err());
        let empty = Config {
            group_max_size: 0,
            ..Config::default()
        };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_password("postgres://u:secret@h:5432/db"),
            "postgres://u:****@h:5432/db"
        );
        assert_eq!(mask_password("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn advertised_address_parses() {
        let c = Config {
            advertised_addr: Some("10.0.0.1:19092".into()),
            ..Config::default()
        };
        assert_eq!(c.advertised().unwrap(), ("10.0.0.1".to_string(), 19092));
        assert_eq!(
            Config::default().advertised().unwrap(),
            ("127.0.0.1".to_string(), 9092)
        );
    }
}
