//! Wires an agent together from its configuration, serves until told to
//! stop, and shuts down in the order that loses nothing: leave the registry
//! (clients are sent elsewhere) while still serving for a drain period, then
//! stop accepting, stop reading requests, flush and answer what is pending,
//! close.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::authz::Authorizer;
use crate::cluster::registry::{Membership, RegistrySettings};
use crate::cluster::store_events;
use crate::cluster::topics::Topics;
use crate::config::Config;
use crate::config::listeners::SecurityProtocol;
use crate::configs::BrokerConfigs;
use crate::context::AgentContext;
use crate::error::{AgentError, Result};
use crate::faults::{FaultSpec, Faults, FaultyMetadataStore, FaultyObjectStore};
use crate::fetch::session::{FetchSessions, MIN_PARTITION_WIRE_BYTES, SessionMetrics};
use crate::fetch::{LogReader, SegmentCache, Watermarks};
use crate::groups::{Coordinator, GroupSettings};
use crate::http::{self, HttpState};
use crate::jobs::archive::{self, Archiver};
use crate::jobs::collector::Collector;
use crate::jobs::compaction::Compaction;
use crate::jobs::group_lag::export_lag;
use crate::jobs::leased::JobRunner;
use crate::jobs::log_cleaner::{LogCleaner, key_map};
use crate::jobs::orphan_sweep::OrphanSweep;
use crate::jobs::prune::Prune;
use crate::jobs::retention;
use crate::jobs::{acls, broker_configs, client_quotas};
use crate::kafka::limits::{AcceptBackoff, ConnectionLimits, ConnectionSettings};
use crate::kafka::memory_pool::MemoryPool;
use crate::kafka::serve_connection;
use crate::metrics::Metrics;
use crate::produce::{COMMIT_ATTEMPT_TIMEOUT, CommitRetry, FlushSettings, Flusher};
use crate::quotas::{ClientQuotas, QuotaSettings, Sampling};
use crate::sasl::oauth::OAuthValidator;
use crate::sasl::{Authenticator, Mechanism};
use crate::storage::{ObjectStorage, open_object_store, root_uri};
use crate::tls::Certificates;
use crate::txn::{TxnCoordinator, TxnSettings};
use crate::wall_clock;

/// How long connections get to send their last responses at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs an agent until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<()> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        AgentError::Config(format!(
            "cannot create data dir {}: {e}",
            config.data_dir.display()
        ))
    })?;
    info!(config = %config.redacted(), "starting floe agent");
    // Ports first: an agent that cannot listen must fail before it registers
    // (or it would be advertised to clients), and /readyz answers 503 from
    // the moment the port is ours until Kafka is served.
    let bind = |addr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|e| AgentError::Config(format!("cannot listen on {addr}: {e}")))
    };
    let mut kafka = Vec::new();
    for listener in config.kafka_listeners()? {
        kafka.push((listener.protocol, bind(listener.addr).await?));
    }
    for addr in config.exposed_plaintext_listeners() {
        warn!(
            %addr,
            "PLAINTEXT listener on a non-loopback address: anyone who reaches it can read and \
             write every topic (use SSL, SASL_SSL or SASL_PLAINTEXT listeners)"
        );
    }
    let http_listener = bind(config.http_listen).await?;
    let tls = match config.tls_files() {
        Some(files) => {
            Some(Certificates::load(files).map_err(|e| AgentError::Config(e.to_string()))?)
        }
        None => None,
    };
    let metrics =
        Arc::new(Metrics::new().map_err(|e| AgentError::Config(format!("metrics: {e}")))?);
    let ready = Arc::new(AtomicBool::new(false));
    let http_stop = CancellationToken::new();
    let http_task = tokio::spawn(http::serve(
        http_listener,
        tls.clone().filter(|_| config.http_tls),
        HttpState {
            metrics: metrics.clone(),
            ready: ready.clone(),
        },
        http_stop.clone(),
    ));
    let mut store = floe_metadata::open(&config.metadata_url()).await?;
    let mut objects = open_object_store(&config.object_store_url())?;
    if let Some(spec) = &config.fault_injection {
        let spec = FaultSpec::parse(spec).map_err(|e| AgentError::Config(e.to_string()))?;
        warn!(
            ?spec,
            "FAULT INJECTION IS ON: stores will fail on purpose (a test setting)"
        );
        let faults = Arc::new(Faults::new(spec));
        store = Arc::new(FaultyMetadataStore::new(store, faults.clone()));
        objects = Arc::new(FaultyObjectStore::new(objects, faults));
    }
    let storage = ObjectStorage::new(objects, metrics.clone());
    let cache = Arc::new(SegmentCache::new(config.cache_bytes, metrics.clone()));
    let watermarks = Arc::new(Watermarks::default());
    let settings = FlushSettings {
        interval: Duration::from_millis(config.effective_flush_interval_ms()),
        flush_bytes: config.flush_bytes,
        max_pending_bytes: config.max_pending_bytes,
        max_inflight: config.max_inflight_flushes,
        commit_retry: CommitRetry {
            attempt_timeout: COMMIT_ATTEMPT_TIMEOUT,
            window: Duration::from_millis(config.commit_retry_window_ms),
        },
    };
    let (flusher, producer) = Flusher::start(
        settings,
        store.clone(),
        storage.clone(),
        cache.clone(),
        watermarks.clone(),
        metrics.clone(),
    );
    let membership = Membership::join(
        store.clone(),
        config.advertised_listeners()?,
        config.zone.clone(),
        RegistrySettings {
            heartbeat_interval: Duration::from_millis(config.heartbeat_interval_ms),
            agent_timeout: Duration::from_millis(config.agent_timeout_ms),
        },
    )
    .await?;
    let groups = Coordinator::start(
        store.clone(),
        membership.registry(),
        GroupSettings {
            min_session_timeout: Duration::from_millis(config.group_min_session_timeout_ms),
            max_session_timeout: Duration::from_millis(config.group_max_session_timeout_ms),
            initial_rebalance_delay: Duration::from_millis(config.group_initial_rebalance_delay_ms),
            max_size: usize::try_from(config.group_max_size).unwrap_or(usize::MAX),
            ..GroupSettings::default()
        },
    );
    let sasl = authenticator(&config, &store).await?;
    let broker_configs = Arc::new(BrokerConfigs::new(&config));
    broker_configs::refresh(&*store, &broker_configs).await?;
    let txn = TxnCoordinator::new(
        store.clone(),
        producer.clone(),
        metrics.clone(),
        TxnSettings {
            max_timeout_ms: i32::try_from(config.transaction_max_timeout_ms).unwrap_or(i32::MAX),
            id_expiration_ms: i64::try_from(config.transactional_id_expiration_ms)
                .unwrap_or(i64::MAX),
        },
    );
    let quotas = Arc::new(ClientQuotas::new(
        QuotaSettings {
            sampling: Sampling {
                samples: config.quota_window_num,
                window_ms: config.quota_window_size_seconds * 1000,
            },
            max_tracked: config.quota_max_tracked_clients,
        },
        metrics.quota_metrics(),
    ));
    client_quotas::refresh(&*store, &quotas).await?;
    let authorizer = match config.authorizer_settings()? {
        Some(settings) => {
            Authorizer::new(settings, metrics.authz_denied.clone(), metrics.acls.clone())
        }
        None => Authorizer::disabled(),
    };
    acls::refresh(&*store, &authorizer).await?;
    let ctx = Arc::new(AgentContext {
        cluster_id: config.cluster_id.clone(),
        log_dir: config.log_dir(),
        registry: membership.registry(),
        topics: Topics::new(
            store.clone(),
            config.auto_create_topics,
            config.default_partitions,
        ),
        producer,
        reader: LogReader::new(store.clone(), storage.clone(), cache)
            .with_max_row_age(Duration::from_millis(config.segment_gc_grace_ms / 2)),
        groups,
        txn,
        store,
        metrics: metrics.clone(),
        watermarks,
        fetch_sessions: FetchSessions::new(
            config.max_incremental_fetch_session_cache_slots,
            config.max_frame_bytes / MIN_PARTITION_WIRE_BYTES,
            None,
            SessionMetrics {
                open: metrics.fetch_sessions.clone(),
                partitions: metrics.fetch_session_partitions.clone(),
                evictions: metrics.fetch_session_evictions.clone(),
            },
        ),
        max_frame_bytes: config.max_frame_bytes,
        timestamp_limits: config.timestamp_limits(),
        request_pool: MemoryPool::new(
            config.queued_max_request_bytes,
            metrics.request_pool_bytes.clone(),
        ),
        connection: ConnectionSettings {
            max_idle: Duration::from_millis(config.connections_max_idle_ms),
            frame_read_timeout: Duration::from_millis(config.frame_read_timeout_ms),
            write_timeout: Duration::from_millis(config.response_write_timeout_ms),
            max_queued_response_bytes: config.max_queued_response_bytes,
        },
        broker_configs,
        tls: tls.clone(),
        sasl,
        quotas,
        authorizer,
    });
    let limits = ConnectionLimits::new(config.max_connections, config.max_connections_per_ip);

    let wake_stop = CancellationToken::new();
    let tls_watch = tls
        .clone()
        .map(|certificates| tokio::spawn(certificates.watch(wake_stop.clone())));
    let wake_task = tokio::spawn(store_events::follow(
        ctx.clone(),
        Duration::from_millis(config.commit_poll_interval_ms),
        wake_stop.clone(),
    ));
    let background_stop = CancellationToken::new();
    let jobs = JobRunner::new(
        ctx.store.clone(),
        metrics.clone(),
        ctx.registry.me().node_id,
        background_stop.clone(),
    );
    let archive_storage = storage.clone();
    let collector = Collector {
        store: ctx.store.clone(),
        storage: storage.clone(),
        metrics: metrics.clone(),
        grace: Duration::from_millis(config.segment_gc_grace_ms),
    };
    let collector_task = jobs.spawn(
        "collector",
        Duration::from_millis(config.segment_gc_interval_ms),
        move |fence, stop| collector.clone().pass(fence, stop),
    );
    let sweep = OrphanSweep::new(
        ctx.store.clone(),
        storage.clone(),
        Duration::from_millis(config.segment_gc_grace_ms),
    );
    let sweep_task = jobs.spawn(
        "orphan_sweep",
        Duration::from_millis(config.orphan_sweep_interval_ms),
        move |fence, stop| sweep.clone().pass(fence, stop),
    );
    let compaction = Compaction {
        store: ctx.store.clone(),
        storage: storage.clone(),
        metrics: metrics.clone(),
        target_bytes: config.compaction_target_bytes,
    };
    let compaction_task = jobs.spawn(
        "compaction",
        Duration::from_millis(config.compaction_interval_ms),
        move |fence, stop| compaction.clone().pass(fence, stop),
    );
    let cleaner = LogCleaner {
        store: ctx.store.clone(),
        storage: storage.clone(),
        metrics: metrics.clone(),
        broker: ctx.broker_configs.clone(),
        now_ms: wall_clock::now_ms,
        max_keys: key_map::DEFAULT_MAX_KEYS,
    };
    let cleaner_task = jobs.spawn(
        "log_cleaner",
        Duration::from_millis(config.log_cleaner_interval_ms),
        move |fence, stop| cleaner.clone().pass(fence, stop),
    );
    let (store, broker) = (ctx.store.clone(), ctx.broker_configs.clone());
    let retention_task = jobs.spawn(
        "retention",
        Duration::from_millis(config.retention_check_interval_ms),
        move |fence, stop| {
            retention::pass(
                store.clone(),
                broker.clone(),
                wall_clock::now_ms,
                fence,
                stop,
            )
        },
    );
    let broker_configs_task = tokio::spawn(broker_configs::run(
        ctx.store.clone(),
        ctx.broker_configs.clone(),
        Duration::from_millis(config.heartbeat_interval_ms),
        background_stop.clone(),
    ));
    let quotas_task = tokio::spawn(client_quotas::run(
        ctx.store.clone(),
        ctx.quotas.clone(),
        Duration::from_millis(config.heartbeat_interval_ms),
        background_stop.clone(),
    ));
    // ACL changes reach every agent within a second (one small query each).
    let acls_task = tokio::spawn(acls::run(
        ctx.store.clone(),
        ctx.authorizer.clone(),
        Duration::from_millis(config.heartbeat_interval_ms.min(1000)),
        background_stop.clone(),
    ));
    let prune = Prune {
        store: ctx.store.clone(),
        metrics: metrics.clone(),
        outcomes_after: Duration::from_millis(config.segment_gc_grace_ms),
        producers_after: Duration::from_millis(config.producer_id_expiration_ms),
    };
    let prune_task = jobs.spawn(
        "prune",
        Duration::from_millis(config.producer_id_expiration_check_interval_ms),
        move |fence, stop| prune.clone().pass(fence, stop),
    );
    let coordinator = ctx.txn.clone();
    let transactions_task = jobs.spawn(
        "transactions",
        Duration::from_millis(config.transaction_check_interval_ms),
        move |_fence, _stop| crate::jobs::transactions::pass(coordinator.clone()),
    );
    let archiver = Archiver {
        store: ctx.store.clone(),
        storage: archive_storage,
        metrics: metrics.clone(),
        broker: ctx.broker_configs.clone(),
        root_uri: root_uri(&config.object_store_url())?,
        now_ms: wall_clock::now_ms,
    };
    let archive_task = jobs.spawn(
        archive::JOB,
        Duration::from_millis(config.archive_interval_ms),
        move |fence, stop| archiver.clone().pass(fence, stop),
    );
    let lag_stop = CancellationToken::new();
    let lag_task = tokio::spawn(export_lag(
        ctx.clone(),
        Duration::from_millis(config.group_lag_interval_ms),
        lag_stop.clone(),
    ));

    let serving: Vec<String> = kafka
        .iter()
        .map(|(p, l)| {
            format!(
                "{p}://{}",
                l.local_addr()
                    .map_or_else(|e| e.to_string(), |a| a.to_string())
            )
        })
        .collect();
    info!(kafka = ?serving, http = %config.http_listen, "serving");
    ready.store(true, Ordering::Release);

    let stop_reading = CancellationToken::new();
    let mut connections = JoinSet::new();
    let until_stop = shutdown.cancelled_owned();
    accept_until(
        &kafka,
        &mut connections,
        &ctx,
        &stop_reading,
        &limits,
        until_stop,
    )
    .await;

    // Leave first: Metadata answers (here and on the other agents) stop
    // naming this agent and /readyz fails, while the connections still open
    // are served for the drain period, so clients move without errors.
    info!("shutting down: leaving the registry, draining connections");
    ready.store(false, Ordering::Release);
    membership.leave().await;
    let drain = tokio::time::sleep(Duration::from_millis(config.shutdown_drain_ms));
    accept_until(
        &kafka,
        &mut connections,
        &ctx,
        &stop_reading,
        &limits,
        drain,
    )
    .await;

    info!("shutting down: flushing pending data");
    drop(kafka);
    stop_reading.cancel();
    lag_stop.cancel();
    background_stop.cancel();
    let _ = lag_task.await;
    let _ = collector_task.await;
    let _ = sweep_task.await;
    let _ = compaction_task.await;
    let _ = cleaner_task.await;
    let _ = retention_task.await;
    let _ = broker_configs_task.await;
    let _ = quotas_task.await;
    let _ = acls_task.await;
    let _ = prune_task.await;
    let _ = transactions_task.await;
    let _ = archive_task.await;
    // Waiting JoinGroup and SyncGroup requests are answered now, so
    // connections can drain.
    ctx.groups.shutdown().await;
    flusher.shutdown().await;
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!("some connections did not drain in time");
        connections.abort_all();
    }
    wake_stop.cancel();
    let _ = wake_task.await;
    if let Some(task) = tls_watch {
        let _ = task.await;
    }
    http_stop.cancel();
    if let Ok(Err(e)) = http_task.await {
        warn!(error = %e, "http server failed");
    }
    info!("stopped");
    Ok(())
}

/// Accepts Kafka connections on every listener, each served by its own
/// task in `connections` within the connection limits, until `until`
/// completes.
async fn accept_until(
    kafka: &[(SecurityProtocol, TcpListener)],
    connections: &mut JoinSet<()>,
    ctx: &Arc<AgentContext>,
    stop_reading: &CancellationToken,
    limits: &Arc<ConnectionLimits>,
    until: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(until);
    let mut backoff = AcceptBackoff::new();
    loop {
        tokio::select! {
            (accepted, protocol) = accept_any(kafka) => match accepted {
                Ok((stream, peer)) => {
                    backoff.succeeded();
                    match limits.admit(peer.ip()) {
                        Ok(permit) => {
                            let serve = serve_connection(ctx.clone(), stream, protocol, stop_reading.clone());
                            connections.spawn(async move {
                                serve.await;
                                drop(permit);
                            });
                        }
                        Err(refused) => {
                            ctx.metrics.connections_refused.with_label_values(&[refused.label()]).inc();
                            debug!(%peer, %refused, "connection refused");
                            drop(stream);
                        }
                    }
                }
                Err(e) => {
                    // Out of file descriptors (EMFILE, ENFILE) and the like
                    // last a while: wait instead of spinning on them.
                    ctx.metrics.accept_errors.inc();
                    let delay = backoff.failed();
                    warn!(error = %e, ?delay, "accept failed; backing off");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = &mut until => return,
                    }
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut until => return,
        }
    }
}

/// The next connection on any of the listeners, with its listener's
/// protocol. Pending accepts are simply dropped when another finishes.
async fn accept_any(
    kafka: &[(SecurityProtocol, TcpListener)],
) -> (
    std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)>,
    SecurityProtocol,
) {
    let accepts = kafka
        .iter()
        .map(|(protocol, listener)| Box::pin(async move { (listener.accept().await, *protocol) }));
    futures::future::select_all(accepts).await.0
}

/// The SASL mechanisms, when a SASL listener needs them.
async fn authenticator(
    config: &Config,
    store: &Arc<dyn floe_metadata::MetadataStore>,
) -> Result<Option<Arc<Authenticator>>> {
    if !config.kafka_listeners()?.iter().any(|l| l.protocol.sasl()) {
        return Ok(None);
    }
    let mechanisms = config.sasl_mechanisms()?;
    let oauth = match config.oauth_settings() {
        Some(settings) if mechanisms.contains(&Mechanism::OAuthBearer) => Some(
            OAuthValidator::load(settings)
                .await
                .map_err(AgentError::Config)?,
        ),
        _ => None,
    };
    Ok(Some(Arc::new(Authenticator::new(
        store.clone(),
        mechanisms,
        oauth,
        config.connections_max_reauth_ms,
    ))))
}
