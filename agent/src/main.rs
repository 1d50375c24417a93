//! The `floe` binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use floe_agent::config::Config;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc: the agent allocates and frees
/// megabyte buffers (segments, ranged reads, request frames) on many threads,
/// and glibc's per-thread arenas kept about twice the live memory resident
/// (peak RSS 764 MiB against 360 MiB with a single arena, same load).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "floe",
    version,
    about = "A diskless, Kafka-compatible event log"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an agent: Kafka protocol, HTTP metrics and health.
    Serve(Box<ServeArgs>),
    /// Measure a Kafka-compatible cluster: produce, consume or end-to-end.
    Bench(Box<floe_bench::BenchArgs>),
    /// Check a cluster loses, duplicates and reorders nothing: idempotent
    /// producers and a consumer group, then a verdict (non-zero exit on any
    /// violation).
    Verify(floe_verify::VerifyArgs),
    /// Start a throwaway local cluster: Postgres, an S3-compatible server and
    /// N agents in two zones; prints `bootstrap: HOST:PORT,…` first; Ctrl-C
    /// stops everything and removes its files.
    DevCluster(floe_devcluster::DevClusterArgs),
    /// Manage SASL/SCRAM users in the metadata store (before any client can connect).
    #[command(subcommand)]
    Users(floe_agent::users::UsersCommand),
}

/// Every setting of [`Config`] is a flag (the TOML key with dashes), also read
/// from the `FLOE_<NAME>` environment variable; both override the `--config`
/// file. Defaults are those of [`Config::default`].
#[derive(Debug, Args)]
struct ServeArgs {
    /// TOML config file (keys are the flag names with underscores).
    #[arg(long, env = "FLOE_CONFIG")]
    config: Option<PathBuf>,
    /// Kafka listener address [default: 127.0.0.1:9092].
    #[arg(long, env = "FLOE_KAFKA_LISTEN")]
    kafka_listen: Option<SocketAddr>,
    /// host:port advertised to clients [default: the Kafka listener].
    #[arg(long, env = "FLOE_ADVERTISED_ADDR")]
    advertised_addr: Option<String>,
    /// HTTP listener for /metrics, /healthz, /readyz [default: 127.0.0.1:9644].
    #[arg(long, env = "FLOE_HTTP_LISTEN")]
    http_listen: Option<SocketAddr>,
    /// Folder for embedded data [default: ./floe-data].
    #[arg(long, env = "FLOE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Metadata store URL: sqlite://PATH or postgres://…
    /// [default: sqlite://<data-dir>/metadata.db].
    #[arg(long, env = "FLOE_METADATA")]
    metadata: Option<String>,
    /// Object store URL: file://PATH, s3://BUCKET/PREFIX or memory://
    /// [default: file://<data-dir>/objects].
    #[arg(long, env = "FLOE_OBJECT_STORE")]
    object_store: Option<String>,
    /// Longest time produced data waits before its segment is flushed
    /// [default: 100 for s3://, 0 (group commit) for local stores].
    #[arg(long, env = "FLOE_FLUSH_INTERVAL_MS")]
    flush_interval_ms: Option<u64>,
    /// Pending segment size that triggers a flush [default: 8388608].
    #[arg(long, env = "FLOE_FLUSH_BYTES")]
    flush_bytes: Option<usize>,
    /// Partitions of auto-created topics [default: 1].
    #[arg(long, env = "FLOE_DEFAULT_PARTITIONS")]
    default_partitions: Option<i32>,
    /// Create topics on first use [default: true].
    #[arg(long, env = "FLOE_AUTO_CREATE_TOPICS", action = clap::ArgAction::Set)]
    auto_create_topics: Option<bool>,
    /// Availability zone of this agent.
    #[arg(long, env = "FLOE_ZONE")]
    zone: Option<String>,
    /// Largest request frame accepted; a larger one closes the connection
    #[arg(long, env = "FLOE_MAX_FRAME_BYTES")]
    max_frame_bytes: Option<usize>,
    /// Memory for request frames being read, all connections together
    /// (Kafka's queued.max.request.bytes) [default: 117440512].
    #[arg(long, env = "FLOE_QUEUED_MAX_REQUEST_BYTES")]
    queued_max_request_bytes: Option<usize>,
    /// Open Kafka connections at most [default: 10000].
    #[arg(long, env = "FLOE_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Open Kafka connections from one address at most [default: 10000].
    #[arg(long, env = "FLOE_MAX_CONNECTIONS_PER_IP")]
    max_connections_per_ip: Option<usize>,
    /// Close connections idle this long [default: 600000].
    #[arg(long, env = "FLOE_CONNECTIONS_MAX_IDLE_MS")]
    connections_max_idle_ms: Option<u64>,
    /// Longest time a request frame may take to arrive [default: 60000].
    #[arg(long, env = "FLOE_FRAME_READ_TIMEOUT_MS")]
    frame_read_timeout_ms: Option<u64>,
    /// Close a connection whose response write stalls this long [default: 60000].
    #[arg(long, env = "FLOE_RESPONSE_WRITE_TIMEOUT_MS")]
    response_write_timeout_ms: Option<u64>,
    /// Bytes of finished responses waiting for one client, above which the agent stops reading
    /// that connection's requests
    #[arg(long, env = "FLOE_MAX_QUEUED_RESPONSE_BYTES")]
    max_queued_response_bytes: Option<usize>,
    /// Produce bytes held in memory awaiting commit before producers are slowed down
    /// (back-pressure)
    #[arg(long, env = "FLOE_MAX_PENDING_BYTES")]
    max_pending_bytes: Option<usize>,
    /// Segments uploaded at once; their commits still apply in order
    #[arg(long, env = "FLOE_MAX_INFLIGHT_FLUSHES")]
    max_inflight_flushes: Option<usize>,
    /// Bytes of segment data kept in memory for reads
    #[arg(long, env = "FLOE_CACHE_BYTES")]
    cache_bytes: Option<usize>,
    /// Cluster id reported to clients
    #[arg(long, env = "FLOE_CLUSTER_ID")]
    cluster_id: Option<String>,
    /// Time between this agent's heartbeats in the metadata store
    #[arg(long, env = "FLOE_HEARTBEAT_INTERVAL_MS")]
    heartbeat_interval_ms: Option<u64>,
    /// An agent whose last heartbeat is older is no longer given to clients
    #[arg(long, env = "FLOE_AGENT_TIMEOUT_MS")]
    agent_timeout_ms: Option<u64>,
    /// Fallback wake-up of long-polling fetches, for commits by other agents whose notification
    /// was lost
    #[arg(long, env = "FLOE_COMMIT_POLL_INTERVAL_MS")]
    commit_poll_interval_ms: Option<u64>,
    /// How often the consumer-lag metrics of the groups this agent coordinates are refreshed
    /// (one metadata query per group)
    #[arg(long, env = "FLOE_GROUP_LAG_INTERVAL_MS")]
    group_lag_interval_ms: Option<u64>,
    /// How often the segment collector looks for segments no index row points at any more
    /// (their topic was deleted) and deletes their objects
    #[arg(long, env = "FLOE_SEGMENT_GC_INTERVAL_MS")]
    segment_gc_interval_ms: Option<u64>,
    /// How often the orphan sweep lists the next 16 of the bucket's 256 segment folders for
    /// objects never committed, deleting those older than segment_gc_grace_ms [default: 300000]
    #[arg(long, env = "FLOE_ORPHAN_SWEEP_INTERVAL_MS")]
    orphan_sweep_interval_ms: Option<u64>,
    /// Least age of a segment's commit before the collector may delete it: longer than any
    /// retry of a commit (at least `commit_retry_window_ms` plus the store's statement
    /// timeout), which would otherwise commit a forgotten segment again
    #[arg(long, env = "FLOE_SEGMENT_GC_GRACE_MS")]
    segment_gc_grace_ms: Option<u64>,
    /// How often the compaction job looks for small segments to merge into large ones
    #[arg(long, env = "FLOE_COMPACTION_INTERVAL_MS")]
    compaction_interval_ms: Option<u64>,
    /// Largest segment compaction writes (64 KiB to 1 GiB)
    #[arg(long, env = "FLOE_COMPACTION_TARGET_BYTES")]
    compaction_target_bytes: Option<u64>,
    /// How often the log cleaner looks for compacted partitions (cleanup.policy=compact) to
    /// clean
    #[arg(long, env = "FLOE_LOG_CLEANER_INTERVAL_MS")]
    log_cleaner_interval_ms: Option<u64>,
    /// How long the flusher retries a commit whose outcome is unknown (a lost connection, a
    /// timeout) before its producers are answered REQUEST_TIMED_OUT
    #[arg(long, env = "FLOE_COMMIT_RETRY_WINDOW_MS")]
    commit_retry_window_ms: Option<u64>,
    /// How long an idempotent producer that writes nothing keeps its state (sequence numbers)
    /// on a partition (Kafka's `producer.id.expiration.ms`)
    #[arg(long, env = "FLOE_PRODUCER_ID_EXPIRATION_MS")]
    producer_id_expiration_ms: Option<u64>,
    /// How often expired producer state and old commit outcomes are pruned from the metadata
    /// store (Kafka's `producer.id.expiration.check.interval.ms`)
    #[arg(long, env = "FLOE_PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS")]
    producer_id_expiration_check_interval_ms: Option<u64>,
    /// Largest transaction.timeout.ms a transactional producer may ask (Kafka's
    /// `transaction.max.timeout.ms`)
    #[arg(long, env = "FLOE_TRANSACTION_MAX_TIMEOUT_MS")]
    transaction_max_timeout_ms: Option<u64>,
    /// How long a transactional id without an open transaction is remembered (Kafka's
    /// `transactional.id.expiration.ms`)
    #[arg(long, env = "FLOE_TRANSACTIONAL_ID_EXPIRATION_MS")]
    transactional_id_expiration_ms: Option<u64>,
    /// How often transactions past their timeout are aborted and idle transactional ids
    /// forgotten
    #[arg(long, env = "FLOE_TRANSACTION_CHECK_INTERVAL_MS")]
    transaction_check_interval_ms: Option<u64>,
    /// At shutdown, how long the agent keeps serving after it left the registry (and `/readyz`
    /// turned 503), so clients move to other agents before connections close
    #[arg(long, env = "FLOE_SHUTDOWN_DRAIN_MS")]
    shutdown_drain_ms: Option<u64>,
    /// Test only: inject faults into the object and metadata stores, e.g.
    /// put_error=0.1,commit_lost=0.05,latency_ms=20,seed=7 [default: none].
    #[arg(long, env = "FLOE_FAULT_INJECTION")]
    fault_injection: Option<String>,
    /// How often time-based retention runs (Kafka's `log.retention.check.interval.ms`)
    #[arg(long, env = "FLOE_RETENTION_CHECK_INTERVAL_MS")]
    retention_check_interval_ms: Option<u64>,
    /// How often the archive job looks for ranges of topics with `floe.archive.enabled=true`
    /// older than their `floe.archive.after.ms` and writes them to Parquet
    #[arg(long, env = "FLOE_ARCHIVE_INTERVAL_MS")]
    archive_interval_ms: Option<u64>,
    /// Archive topics without a `floe.archive.enabled` of their own (broker default)
    #[arg(long, env = "FLOE_ARCHIVE_ENABLED", action = clap::ArgAction::Set)]
    archive_enabled: Option<bool>,
    /// Age of records archived, for topics without a `floe.archive.after.ms` of their own
    #[arg(long, env = "FLOE_ARCHIVE_AFTER_MS")]
    archive_after_ms: Option<i64>,
    /// Drop the segments of archived ranges, for topics without a
    /// `floe.archive.drop.segments` of their own
    #[arg(long, env = "FLOE_ARCHIVE_DROP_SEGMENTS", action = clap::ArgAction::Set)]
    archive_drop_segments: Option<bool>,
    /// Retention of topics without a `retention.ms` of their own; negative keeps every record
    /// (Kafka's broker default is 7 days; Floe keeps data until told otherwise)
    #[arg(long, env = "FLOE_DEFAULT_RETENTION_MS")]
    default_retention_ms: Option<i64>,
    /// Size retention per partition of topics without a `retention.bytes` of their own;
    /// negative keeps every record (Kafka's `log.retention.bytes`) [default: -1]
    #[arg(long, env = "FLOE_DEFAULT_RETENTION_BYTES")]
    default_retention_bytes: Option<i64>,
    /// Largest age of a producer's CreateTime timestamp, for topics without
    /// a message.timestamp.before.max.ms [default: 9223372036854775807, no limit].
    #[arg(long, env = "FLOE_MESSAGE_TIMESTAMP_BEFORE_MAX_MS")]
    message_timestamp_before_max_ms: Option<i64>,
    /// Largest lead of a producer's CreateTime timestamp over the clock, for
    /// topics without a message.timestamp.after.max.ms [default: 3600000].
    #[arg(long, env = "FLOE_MESSAGE_TIMESTAMP_AFTER_MAX_MS")]
    message_timestamp_after_max_ms: Option<i64>,
    /// Shortest session timeout a group member may ask for (Kafka's
    /// group.min.session.timeout.ms) [default: 6000].
    #[arg(long, env = "FLOE_GROUP_MIN_SESSION_TIMEOUT_MS")]
    group_min_session_timeout_ms: Option<u64>,
    /// Longest session timeout a group member may ask for (Kafka's
    /// group.max.session.timeout.ms) [default: 1800000].
    #[arg(long, env = "FLOE_GROUP_MAX_SESSION_TIMEOUT_MS")]
    group_max_session_timeout_ms: Option<u64>,
    /// How long the first rebalance of an empty group waits for more members
    /// (Kafka's group.initial.rebalance.delay.ms) [default: 3000].
    #[arg(long, env = "FLOE_GROUP_INITIAL_REBALANCE_DELAY_MS")]
    group_initial_rebalance_delay_ms: Option<u64>,
    /// Most members a consumer group may have (Kafka's group.max.size)
    /// [default: 2147483647].
    #[arg(long, env = "FLOE_GROUP_MAX_SIZE")]
    group_max_size: Option<u32>,
    /// Largest record batch a topic without a max.message.bytes of its own
    /// takes (Kafka's `message.max.bytes`) [default: 1048588].
    #[arg(long, env = "FLOE_MESSAGE_MAX_BYTES")]
    message_max_bytes: Option<i32>,
    /// Incremental fetch sessions kept at most; 0 keeps none (Kafka's
    /// max.incremental.fetch.session.cache.slots) [default: 1000].
    #[arg(long, env = "FLOE_MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS")]
    max_incremental_fetch_session_cache_slots: Option<usize>,
    /// Kafka listeners, PROTOCOL://host:port,… with PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL,
    /// e.g. PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093 [default: PLAINTEXT on
    /// --kafka-listen]; not together with --kafka-listen or --advertised-addr
    #[arg(long, env = "FLOE_LISTENERS")]
    listeners: Option<String>,
    /// The address clients are told for each listener, in the form of --listeners
    /// [default: each listener's bound address]
    #[arg(long, env = "FLOE_ADVERTISED_LISTENERS")]
    advertised_listeners: Option<String>,
    /// PEM certificate chain of the SSL/SASL_SSL listeners (and HTTP with --http-tls); re-read
    /// when the file changes
    #[arg(long, env = "FLOE_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, env = "FLOE_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// PEM CA certificates: TLS clients must present a certificate they signed (mTLS); the
    /// principal of an SSL connection is its subject
    #[arg(long, env = "FLOE_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
    /// Serve /metrics, /healthz and /readyz over TLS with --tls-cert [default: false]
    #[arg(long, env = "FLOE_HTTP_TLS", action = clap::ArgAction::Set)]
    http_tls: Option<bool>,
    /// SASL mechanisms of the SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
    /// [default: PLAIN,SCRAM-SHA-256,SCRAM-SHA-512]
    #[arg(long, env = "FLOE_SASL_MECHANISMS")]
    sasl_mechanisms: Option<String>,
    /// JWKS file with the keys that sign OAUTHBEARER tokens (JWTs); re-read when it changes
    #[arg(long, env = "FLOE_OAUTH_JWKS_FILE")]
    oauth_jwks_file: Option<PathBuf>,
    /// JWKS endpoint (https://, http:// or file://) with the keys that sign OAUTHBEARER
    /// tokens; fetched every --oauth-jwks-refresh-ms and when a token names an unknown kid
    #[arg(long, env = "FLOE_OAUTH_JWKS_URL")]
    oauth_jwks_url: Option<String>,
    /// How often the JWKS endpoint is fetched again, in ms [default: 3600000]
    #[arg(long, env = "FLOE_OAUTH_JWKS_REFRESH_MS")]
    oauth_jwks_refresh_ms: Option<u64>,
    /// The aud claim OAUTHBEARER tokens must carry [default: not checked]
    #[arg(long, env = "FLOE_OAUTH_EXPECTED_AUDIENCE")]
    oauth_expected_audience: Option<String>,
    /// The iss claim OAUTHBEARER tokens must carry [default: not checked]
    #[arg(long, env = "FLOE_OAUTH_EXPECTED_ISSUER")]
    oauth_expected_issuer: Option<String>,
    /// Longest SASL session before the client must re-authenticate (KIP-368); 0 never
    /// [default: 0]
    #[arg(long, env = "FLOE_CONNECTIONS_MAX_REAUTH_MS")]
    connections_max_reauth_ms: Option<u64>,
    /// Windows a client's rate is measured over for its quota (Kafka's
    /// quota.window.num) [default: 11].
    #[arg(long, env = "FLOE_QUOTA_WINDOW_NUM")]
    quota_window_num: Option<usize>,
    /// Length of one quota window in seconds (Kafka's
    /// quota.window.size.seconds) [default: 1].
    #[arg(long, env = "FLOE_QUOTA_WINDOW_SIZE_SECONDS")]
    quota_window_size_seconds: Option<u64>,
    /// Clients tracked per quota kind at most [default: 100000].
    #[arg(long, env = "FLOE_QUOTA_MAX_TRACKED_CLIENTS")]
    quota_max_tracked_clients: Option<usize>,
    /// The authorizer: acl (ACLs kept in the metadata store, managed with kafka-acls) [default:
    /// none, every request allowed]
    #[arg(long, env = "FLOE_AUTHORIZER")]
    authorizer: Option<String>,
    /// Principals allowed everything, ;-separated (Kafka's super.users), e.g.
    /// "User:admin;User:CN=ops,O=Acme"
    #[arg(long, env = "FLOE_SUPER_USERS")]
    super_users: Option<String>,
    /// Allow actions on resources no ACL names (Kafka's allow.everyone.if.no.acl.found)
    /// [default: false]
    #[arg(long, env = "FLOE_ALLOW_EVERYONE_IF_NO_ACL_FOUND", action = clap::ArgAction::Set)]
    allow_everyone_if_no_acl_found: Option<bool>,
}

impl ServeArgs {
    /// The file's settings (or the defaults), overridden by env and flags.
    fn into_config(self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(path) => Config::from_toml_file(path)?,
            None => Config::default(),
        };
        // Settings that always have a value, and settings that may stay unset.
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { c.$field = v; } )* };
        }
        macro_rules! set_optional {
            ($($field:ident),*) => { $( if self.$field.is_some() { c.$field = self.$field; } )* };
        }
        set!(
            kafka_listen,
            http_listen,
            data_dir,
            flush_bytes,
            default_partitions,
            auto_create_topics,
            max_frame_bytes,
            queued_max_request_bytes,
            max_connections,
            max_connections_per_ip,
            connections_max_idle_ms,
            frame_read_timeout_ms,
            response_write_timeout_ms,
            max_queued_response_bytes,
            max_pending_bytes,
            max_inflight_flushes,
            cache_bytes,
            cluster_id,
            heartbeat_interval_ms,
            agent_timeout_ms,
            commit_poll_interval_ms,
            group_lag_interval_ms,
            segment_gc_interval_ms,
            orphan_sweep_interval_ms,
            segment_gc_grace_ms,
            compaction_interval_ms,
            compaction_target_bytes,
            log_cleaner_interval_ms,
            commit_retry_window_ms,
            producer_id_expiration_ms,
            producer_id_expiration_check_interval_ms,
            transaction_max_timeout_ms,
            transactional_id_expiration_ms,
            transaction_check_interval_ms,
            shutdown_drain_ms,
            retention_check_interval_ms,
            archive_interval_ms,
            archive_enabled,
            archive_after_ms,
            archive_drop_segments,
            default_retention_ms,
            default_retention_bytes,
            message_timestamp_before_max_ms,
            message_timestamp_after_max_ms,
            group_min_session_timeout_ms,
            group_max_session_timeout_ms,
            group_initial_rebalance_delay_ms,
            group_max_size,
            message_max_bytes,
            max_incremental_fetch_session_cache_slots,
            http_tls,
            sasl_mechanisms,
            oauth_jwks_refresh_ms,
            connections_max_reauth_ms,
            quota_window_num,
            quota_window_size_seconds,
            quota_max_tracked_clients,
            allow_everyone_if_no_acl_found
        );
        set_optional!(
            advertised_addr,
            metadata,
            object_store,
            flush_interval_ms,
            zone,
            fault_injection,
            listeners,
            advertised_listeners,
            tls_cert,
            tls_key,
            tls_client_ca,
            oauth_jwks_file,
            oauth_jwks_url,
            oauth_expected_audience,
            oauth_expected_issuer,
            authorizer,
            super_users
        );
        Ok(c)
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("FLOE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => {
            let config = (*args).into_config()?;
            runtime.block_on(async {
                let shutdown = CancellationToken::new();
                tokio::spawn(stop_on_signal(shutdown.clone()));
                floe_agent::server::run(config, shutdown).await
            })?;
        }
        Command::Bench(args) => floe_bench::run(*args)?,
        Command::Users(command) => runtime.block_on(floe_agent::users::run(command))?,
        Command::Verify(args) => floe_verify::run(args)?,
        Command::DevCluster(args) => {
            let floe = std::env::current_exe().context("cannot find the floe binary")?;
            runtime.block_on(floe_devcluster::run(args, floe))?;
        }
    }
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
    shutdown.cancel();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every key of the config file is a flag of `floe serve` with its
    /// `FLOE_*` variable: adding a setting without a flag fails here.
    #[test]
    fn every_setting_is_a_flag_and_a_variable() {
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").expect("a serve subcommand");
        let toml = toml::to_string(&Config {
            advertised_addr: Some("h:1".into()),
            metadata: Some("sqlite://m".into()),
            object_store: Some("memory://".into()),
            flush_interval_ms: Some(1),
            zone: Some("z".into()),
            fault_injection: Some(String::new()),
            listeners: Some("PLAINTEXT://127.0.0.1:1".into()),
            advertised_listeners: Some("PLAINTEXT://h:1".into()),
            tls_cert: Some("c".into()),
            tls_key: Some("k".into()),
            tls_client_ca: Some("ca".into()),
            oauth_jwks_file: Some("j".into()),
            oauth_jwks_url: Some("u".into()),
            oauth_expected_audience: Some("a".into()),
            oauth_expected_issuer: Some("i".into()),
            ..Config::default()
        })
        .expect("config as toml");
        let keys: Vec<&str> = toml
            .lines()
            .filter_map(|line| line.split_once(" = ").map(|(key, _)| key))
            .collect();
        assert!(keys.len() > 30, "{keys:?}");
        for key in keys {
            let arg = serve
                .get_arguments()
                .find(|a| a.get_id() == key)
                .unwrap_or_else(|| panic!("setting {key} has no flag"));
            assert_eq!(
                arg.get_long(),
                Some(key.replace('_', "-").as_str()),
                "flag of {key}"
            );
            let env = format!("FLOE_{}", key.to_uppercase());
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(env.as_str()),
                "variable of {key}"
            );
        }
    }

    #[test]
    fn flags_override_the_defaults() {
        let cli = Cli::try_parse_from([
            "floe",
            "serve",
            "--commit-retry-window-ms",
            "1000",
            "--max-connections",
            "7",
            "--auto-create-topics",
            "false",
        ])
        .expect("parse");
        let Command::Serve(args) = cli.command else {
            panic!("serve expected");
        };
        let config = (*args).into_config().expect("config");
        assert_eq!(config.commit_retry_window_ms, 1000);
        assert_eq!(config.max_connections, 7);
        assert!(!config.auto_create_topics);
        assert_eq!(config.flush_bytes, Config::default().flush_bytes);
    }
}
