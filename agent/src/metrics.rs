//! Prometheus metrics of the agent, in one registry served at `/metrics`.
//!
//! Chosen for what an operator asks: how much is written and read, how long
//! requests, flushes and commits take, how many object-store requests (the
//! bill), how well the cache works, and how far consumer groups lag.

use prometheus::{
    Counter, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder, exponential_buckets,
};

/// All metrics of one agent.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by API name.
    pub requests: IntCounterVec,
    /// Request latency by API name, from decode to response ready.
    pub request_seconds: HistogramVec,
    /// Requests answered with an error code, by API and code.
    pub request_errors: IntCounterVec,
    /// Produce requests received.
    pub produce_requests: IntCounter,
    /// Record batch bytes accepted by Produce.
    pub produce_bytes: IntCounter,
    /// Records accepted by Produce.
    pub produce_records: IntCounter,
    /// Fetch requests served.
    pub fetch_requests: IntCounter,
    /// Record batch bytes returned by Fetch.
    pub fetch_bytes: IntCounter,
    /// Incremental fetch sessions (KIP-227) open on this agent.
    pub fetch_sessions: IntGauge,
    /// Partitions held by this agent's fetch sessions.
    pub fetch_session_partitions: IntGauge,
    /// Fetch sessions evicted to make room for another.
    pub fetch_session_evictions: IntCounter,
    /// Fetch requests (v7+) by session kind: `sessionless`, `full` (asks
    /// for a session) or `incremental`.
    pub fetch_session_requests: IntCounterVec,
    /// Open Kafka connections.
    pub connections: IntGauge,
    /// Connections refused at accept, by reason (`total`, `per_ip`).
    pub connections_refused: IntCounterVec,
    /// Connections the agent closed because a bound was reached, by reason
    /// (`idle`, `frame_timeout`, `write_timeout`).
    pub connections_closed: IntCounterVec,
    /// SASL authentications, by mechanism and result (`success`,
    /// `failure`).
    pub sasl_authentications: IntCounterVec,
    /// Authorizer denials, by ACL operation and resource type (Kafka's
    /// names: `READ`, `TOPIC`, …).
    pub authz_denied: IntCounterVec,
    /// ACL bindings the authorizer holds.
    pub acls: IntGauge,
    /// Failed `accept()` calls (out of file descriptors, most often).
    pub accept_errors: IntCounter,
    /// Bytes reserved from the request-memory pool by frames being read.
    pub request_pool_bytes: IntGauge,
    /// Bytes of finished responses waiting for their clients to read them.
    pub queued_response_bytes: IntGauge,
    /// Segments flushed (uploaded and committed).
    pub flushes: IntCounter,
    /// Flushes that failed (upload or commit).
    pub flush_failures: IntCounter,
    /// Size of flushed segments.
    pub flush_bytes: Histogram,
    /// Time from sealing a segment to its commit.
    pub flush_seconds: Histogram,
    /// Metadata commit latency.
    pub commit_seconds: Histogram,
    /// Commit attempts that failed with an outcome that was unknown or
    /// could pass, and were tried again.
    pub commit_retries: IntCounter,
    /// Commits still unknown when their retry window closed: their
    /// producers were answered REQUEST_TIMED_OUT. Should stay at zero.
    pub commits_unknown: IntCounter,
    /// Metadata rows forgotten by the prune job, by kind
    /// (`commit_outcomes`, `producer_batches`).
    pub metadata_pruned: IntCounterVec,
    /// Object store requests by operation (put, get, get_range, delete, list).
    pub object_requests: IntCounterVec,
    /// Object store bytes by operation.
    pub object_bytes: IntCounterVec,
    /// Object store request latency by operation.
    pub object_seconds: HistogramVec,
    /// Segment cache lookups that hit.
    pub cache_hits: IntCounter,
    /// Segment cache lookups that missed.
    pub cache_misses: IntCounter,
    /// Bytes held by the segment cache.
    pub cache_bytes: IntGauge,
    /// Bytes evicted from the segment cache but still held by responses
    /// (counted against the cache's budget until released).
    pub cache_held_bytes: IntGauge,
    /// Produce bytes waiting for their flush to commit.
    pub pending_bytes: IntGauge,
    /// Records between a group's committed offset and the high watermark,
    /// by group, topic and partition, for the groups this agent
    /// coordinates (so no group is reported by two agents).
    pub group_lag: IntGaugeVec,
    /// Groups this agent coordinates, by state.
    pub groups: IntGaugeVec,
    /// Segment objects deleted by the collector (no index row left).
    pub segments_collected: IntCounter,
    /// Compaction's work, each a counter: `input_bytes`, `output_bytes`,
    /// `input_segments`, `output_segments`, `rows_removed`, `rows_added`,
    /// `skipped_partitions`. See [`CompactionMetrics`].
    pub compaction: CompactionMetrics,
    /// The log cleaner's work (`floe_log_cleaner_*`). See
    /// [`LogCleanerMetrics`].
    pub log_cleaner: LogCleanerMetrics,
    /// Record bytes (keys, values, headers) written to the archive tier.
    pub archived_bytes: IntCounter,
    /// Records written to the archive tier.
    pub archived_records: IntCounter,
    /// Parquet files written to the archive tier.
    pub archived_files: IntCounter,
    /// Bytes of Parquet read from the archive tier to serve Fetch and
    /// ListOffsets (footers and row groups).
    pub archive_read_bytes: IntCounter,
    /// Passes of background jobs, by job and outcome (`ok`, `error`,
    /// `lease_lost`; a tick that found the lease held elsewhere or the
    /// next pass not due yet is `not_due`).
    pub job_runs: IntCounterVec,
    /// When each job last finished a pass on this agent, in seconds since
    /// the epoch.
    pub job_last_run: GaugeVec,
    /// How long each job's last pass took, in seconds.
    pub job_last_duration: GaugeVec,
    /// Work each job found left at the end of its last pass (partitions,
    /// segments, rows: the job's own unit).
    pub job_backlog: IntGaugeVec,
    /// Items each job handled, in the job's own unit.
    pub job_items: IntCounterVec,
    /// Whether this agent holds each job's lease (1) or not (0).
    pub job_lease_held: IntGaugeVec,
    /// Transactions (`floe_txn_*`). See [`TxnMetrics`].
    pub txn: TxnMetrics,
    /// CPU time of the agent process (user + system), to the clock tick:
    /// CPU per byte is a cost. Refreshed at each scrape.
    pub cpu_seconds: Counter,
    /// Resident memory of the agent process. Refreshed at each scrape.
    pub resident_bytes: IntGauge,
    /// Throttle times answered to clients over a quota, in ms, by kind
    /// (`produce`, `fetch`, `request`).
    pub quota_throttle_ms: HistogramVec,
    /// Requests throttled for a quota, by kind.
    pub quota_throttled: IntCounterVec,
    /// Clients whose rates are tracked for a quota, by kind.
    pub quota_tracked: IntGaugeVec,
}

/// The transaction coordinator's metrics (`floe_txn_*`).
#[derive(Debug, Clone)]
pub struct TxnMetrics {
    /// Transactions opened (their first AddPartitionsToTxn or
    /// AddOffsetsToTxn) through this agent.
    pub started: IntCounter,
    /// Transactions committed by this agent.
    pub committed: IntCounter,
    /// Transactions aborted by this agent (by the producer, by
    /// InitProducerId, or by the timeout job).
    pub aborted: IntCounter,
    /// Of those, transactions aborted because they outlived their timeout.
    pub timed_out: IntCounter,
    /// Open transactions as the timeout job last counted them.
    pub ongoing: IntGauge,
    /// Time to write and commit the markers of one transaction end.
    pub marker_seconds: Histogram,
}

/// Compaction's counters (`floe_compaction_*`): bytes and segments in and
/// out, index rows before and after.
#[derive(Debug, Clone)]
pub struct CompactionMetrics {
    /// Live bytes read from the merged segments.
    pub input_bytes: IntCounter,
    /// Bytes of the segments written and swapped in.
    pub output_bytes: IntCounter,
    /// Segments merged.
    pub input_segments: IntCounter,
    /// Segments written and swapped in.
    pub output_segments: IntCounter,
    /// Index rows replaced.
    pub rows_removed: IntCounter,
    /// Index rows written in their place.
    pub rows_added: IntCounter,
    /// Partitions left unswapped because their rows changed meanwhile.
    pub skipped_partitions: IntCounter,
}

/// The log cleaner's counters (`floe_log_cleaner_*`), besides the
/// `floe_job_*` series every leased job has.
#[derive(Debug, Clone)]
pub struct LogCleanerMetrics {
    /// Bytes of index rows read: mapped (the dirty section) and filtered.
    pub bytes_read: IntCounter,
    /// Bytes of the cleaned segments written and swapped in.
    pub bytes_written: IntCounter,
    /// Records removed: older values of a key, keyless records, expired
    /// tombstones.
    pub records_removed: IntCounter,
    /// Tombstones removed once `delete.retention.ms` had passed.
    pub tombstones_removed: IntCounter,
    /// Records of aborted transactions removed (also in
    /// `records_removed`).
    pub aborted_records_removed: IntCounter,
    /// Transaction markers removed once their transaction left nothing in
    /// the log and `delete.retention.ms` had passed.
    pub markers_removed: IntCounter,
    /// Partitions cleaned (every swap of their pass done).
    pub partitions_cleaned: IntCounter,
    /// The largest dirty ratio (dirty bytes / bytes) of a compacted
    /// partition at the start of the last pass.
    pub max_dirty_ratio: Gauge,
}

fn latency_buckets() -> Vec<f64> {
    // 100 µs to ~52 s.
    exponential_buckets(0.0001, 2.0, 20).unwrap_or_default()
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("floe".to_string()), None)?;
        let counter = |name: &str, help: &str| -> Result<IntCounter, prometheus::Error> {
            let c = IntCounter::new(name, help)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let counter_vec =
            |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
                let c = IntCounterVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        let gauge = |name: &str, help: &str| -> Result<IntGauge, prometheus::Error> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let gauge_vec =
            |name: &str, help: &str, labels: &[&str]| -> Result<IntGaugeVec, prometheus::Error> {
                let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(g.clone()))?;
                Ok(g)
            };
        let histogram =
            |name: &str, help: &str, buckets: Vec<f64>| -> Result<Histogram, prometheus::Error> {
                let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))?;
                registry.register(Box::new(h.clone()))?;
                Ok(h)
            };
        let histogram_vec =
            |name: &str, help: &str, labels: &[&str]| -> Result<HistogramVec, prometheus::Error> {
                let h = HistogramVec::new(
                    HistogramOpts::new(name, help).buckets(latency_buckets()),
                    labels,
                )?;
                registry.register(Box::new(h.clone()))?;
                Ok(h)
            };
        Ok(Self {
            requests: counter_vec("requests_total", "Kafka requests by API", &["api"])?,
            request_seconds: histogram_vec(
                "request_duration_seconds",
                "Kafka request latency by API",
                &["api"],
            )?,
            request_errors: counter_vec(
                "request_errors_total",
                "Kafka error codes returned, by API and code",
                &["api", "code"],
            )?,
            produce_requests: counter("produce_requests_total", "Produce requests received")?,
            produce_bytes: counter("produce_bytes_total", "Record batch bytes accepted")?,
            produce_records: counter("produce_records_total", "Records accepted")?,
            fetch_requests: counter("fetch_requests_total", "Fetch requests served")?,
            fetch_bytes: counter("fetch_bytes_total", "Record batch bytes served")?,
            fetch_sessions: gauge("fetch_sessions", "Incremental fetch sessions open")?,
            fetch_session_partitions: gauge(
                "fetch_session_partitions",
                "Partitions held by incremental fetch sessions",
            )?,
            fetch_session_evictions: counter(
                "fetch_session_evictions_total",
                "Fetch sessions evicted to make room for another",
            )?,
            fetch_session_requests: counter_vec(
                "fetch_session_requests_total",
                "Fetch requests by session kind (sessionless, full, incremental)",
                &["kind"],
            )?,
            connections: gauge("connections", "Open Kafka connections")?,
            connections_refused: counter_vec(
                "connections_refused_total",
                "Connections refused at accept, by limit reached",
                &["reason"],
            )?,
            connections_closed: counter_vec(
                "connections_closed_total",
                "Connections closed by the agent because a bound was reached",
                &["reason"],
            )?,
            sasl_authentications: counter_vec(
                "sasl_authentications_total",
                "SASL authentications by mechanism and result",
                &["mechanism", "result"],
            )?,
            authz_denied: counter_vec(
                "authz_denied_total",
                "Requests the authorizer denied, by ACL operation and resource type",
                &["operation", "resource_type"],
            )?,
            acls: gauge("acls", "ACL bindings the authorizer holds")?,
            accept_errors: counter("accept_errors_total", "Failed accept calls")?,
            request_pool_bytes: gauge(
                "request_pool_bytes",
                "Bytes reserved from the request-memory pool",
            )?,
            queued_response_bytes: gauge(
                "queued_response_bytes",
                "Bytes of finished responses not yet written to their clients",
            )?,
            flushes: counter("flushes_total", "Segments uploaded and committed")?,
            flush_failures: counter("flush_failures_total", "Flushes that failed")?,
            flush_bytes: histogram(
                "flush_segment_bytes",
                "Size of flushed segments",
                exponential_buckets(1024.0, 4.0, 10)?,
            )?,
            flush_seconds: histogram(
                "flush_duration_seconds",
                "Seal to commit time of a segment",
                latency_buckets(),
            )?,
            commit_seconds: histogram(
                "commit_duration_seconds",
                "Metadata store commit latency",
                latency_buckets(),
            )?,
            commit_retries: counter(
                "commit_retries_total",
                "Segment commit attempts retried after an unknown or passing failure",
            )?,
            commits_unknown: counter(
                "commits_unknown_total",
                "Segment commits whose outcome was still unknown when the retry window closed",
            )?,
            metadata_pruned: counter_vec(
                "metadata_pruned_rows_total",
                "Metadata rows forgotten by the prune job, by kind",
                &["kind"],
            )?,
            object_requests: counter_vec(
                "object_store_requests_total",
                "Object store requests by operation",
                &["op"],
            )?,
            object_bytes: counter_vec(
                "object_store_bytes_total",
                "Object store bytes by operation",
                &["op"],
            )?,
            object_seconds: histogram_vec(
                "object_store_request_duration_seconds",
                "Object store request latency by operation",
                &["op"],
            )?,
            cache_hits: counter("cache_hits_total", "Segment cache hits")?,
            cache_misses: counter("cache_misses_total", "Segment cache misses")?,
            cache_bytes: gauge("cache_bytes", "Bytes held by the segment cache")?,
            cache_held_bytes: gauge(
                "cache_held_bytes",
                "Bytes evicted from the segment cache but still held by responses",
            )?,
            pending_bytes: gauge("pending_bytes", "Produce bytes awaiting commit")?,
            group_lag: gauge_vec(
                "consumer_group_lag",
                "Records from a group's committed offset to the high watermark",
                &["group", "topic", "partition"],
            )?,
            groups: gauge_vec(
                "consumer_groups",
                "Consumer groups coordinated by this agent, by state",
                &["state"],
            )?,
            segments_collected: counter(
                "segments_collected_total",
                "Segment objects deleted because no index row points at them",
            )?,
            txn: TxnMetrics {
                started: counter("txn_started_total", "Transactions opened")?,
                committed: counter("txn_committed_total", "Transactions committed")?,
                aborted: counter("txn_aborted_total", "Transactions aborted")?,
                timed_out: counter(
                    "txn_timed_out_total",
                    "Transactions aborted because they outlived their timeout",
                )?,
                ongoing: gauge("txn_ongoing", "Open transactions, as last counted")?,
                marker_seconds: histogram(
                    "txn_marker_duration_seconds",
                    "Time to write and commit the markers ending a transaction",
                    latency_buckets(),
                )?,
            },
            compaction: CompactionMetrics {
                input_bytes: counter(
                    "compaction_input_bytes_total",
                    "Live bytes compaction read from small segments",
                )?,
                output_bytes: counter(
                    "compaction_output_bytes_total",
                    "Bytes of the segments compaction wrote and swapped in",
                )?,
                input_segments: counter(
                    "compaction_input_segments_total",
                    "Small segments compaction merged",
                )?,
                output_segments: counter(
                    "compaction_output_segments_total",
                    "Segments compaction wrote and swapped in",
                )?,
                rows_removed: counter(
                    "compaction_rows_removed_total",
                    "Index rows compaction replaced",
                )?,
                rows_added: counter(
                    "compaction_rows_added_total",
                    "Index rows compaction wrote in their place",
                )?,
                skipped_partitions: counter(
                    "compaction_skipped_partitions_total",
                    "Partitions a swap left as they were because their rows changed meanwhile",
                )?,
            },
            log_cleaner: LogCleanerMetrics {
                bytes_read: counter(
                    "log_cleaner_bytes_read_total",
                    "Bytes of index rows the log cleaner read (mapped and filtered)",
                )?,
                bytes_written: counter(
                    "log_cleaner_bytes_written_total",
                    "Bytes of the cleaned segments the log cleaner wrote and swapped in",
                )?,
                records_removed: counter(
                    "log_cleaner_records_removed_total",
                    "Records the log cleaner removed (older values, keyless records, expired tombstones)",
                )?,
                tombstones_removed: counter(
                    "log_cleaner_tombstones_removed_total",
                    "Tombstones the log cleaner removed after delete.retention.ms",
                )?,
                aborted_records_removed: counter(
                    "log_cleaner_aborted_records_removed_total",
                    "Records of aborted transactions the log cleaner removed",
                )?,
                markers_removed: counter(
                    "log_cleaner_markers_removed_total",
                    "Transaction markers the log cleaner removed after delete.retention.ms",
                )?,
                partitions_cleaned: counter(
                    "log_cleaner_partitions_cleaned_total",
                    "Partitions the log cleaner cleaned",
                )?,
                max_dirty_ratio: {
                    let g = Gauge::new(
                        "log_cleaner_max_dirty_ratio",
                        "Largest dirty ratio of a compacted partition at the last cleaner pass",
                    )?;
                    registry.register(Box::new(g.clone()))?;
                    g
                },
            },
            archived_bytes: counter(
                "archived_bytes_total",
                "Record bytes written to the Parquet archive",
            )?,
            archived_records: counter(
                "archived_records_total",
                "Records written to the Parquet archive",
            )?,
            archived_files: counter(
                "archived_files_total",
                "Parquet files written to the archive",
            )?,
            archive_read_bytes: counter(
                "archive_read_bytes_total",
                "Parquet bytes read from the archive to serve fetches",
            )?,
            job_runs: counter_vec(
                "job_runs_total",
                "Passes of background jobs, by job and outcome",
                &["job", "outcome"],
            )?,
            job_last_run: {
                let g = GaugeVec::new(
                    Opts::new(
                        "job_last_run_timestamp_seconds",
                        "When each background job last finished a pass here",
                    ),
                    &["job"],
                )?;
                registry.register(Box::new(g.clone()))?;
                g
            },
            job_last_duration: {
                let g = GaugeVec::new(
                    Opts::new(
                        "job_last_duration_seconds",
                        "How long each background job's last pass took",
                    ),
                    &["job"],
                )?;
                registry.register(Box::new(g.clone()))?;
                g
            },
            job_backlog: gauge_vec(
                "job_backlog",
                "Work each background job left for its next pass",
                &["job"],
            )?,
            job_items: counter_vec(
                "job_items_total",
                "Items background jobs handled, in each job's unit",
                &["job"],
            )?,
            job_lease_held: gauge_vec(
                "job_lease_held",
                "Whether this agent holds each background job's lease",
                &["job"],
            )?,
            cpu_seconds: {
                let c = Counter::new(
                    "process_cpu_seconds_total",
                    "User and system CPU time of the agent process",
                )?;
                registry.register(Box::new(c.clone()))?;
                c
            },
            resident_bytes: gauge(
                "process_resident_memory_bytes",
                "Resident memory of the agent",
            )?,
            quota_throttle_ms: {
                let h = HistogramVec::new(
                    HistogramOpts::new(
                        "quota_throttle_time_ms",
                        "Throttle times answered to clients over a quota, by kind",
                    )
                    // 1 ms to ~33 s.
                    .buckets(exponential_buckets(1.0, 2.0, 16)?),
                    &["kind"],
                )?;
                registry.register(Box::new(h.clone()))?;
                h
            },
            quota_throttled: counter_vec(
                "quota_throttled_requests_total",
                "Requests throttled for a client quota, by kind",
                &["kind"],
            )?,
            quota_tracked: gauge_vec(
                "quota_tracked_clients",
                "Clients whose rates are tracked for a quota, by kind",
                &["kind"],
            )?,
            registry,
        })
    }

    /// The metrics client quotas report.
    pub fn quota_metrics(&self) -> crate::quotas::QuotaMetrics {
        crate::quotas::QuotaMetrics {
            throttle_ms: self.quota_throttle_ms.clone(),
            throttled: self.quota_throttled.clone(),
            tracked: self.quota_tracked.clone(),
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        self.refresh_process();
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# metrics encoding failed: {e}\n"))
    }
}

impl Metrics {
    /// Reads the process's CPU time and memory from `/proc/self/stat`.
    fn refresh_process(&self) {
        let Ok(stat) = procfs::process::Process::myself().and_then(|p| p.stat()) else {
            return;
        };
        let ticks = procfs::ticks_per_second().max(1) as f64;
        let cpu = (stat.utime + stat.stime) as f64 / ticks;
        let delta = cpu - self.cpu_seconds.get();
        if delta > 0.0 {
            self.cpu_seconds.inc_by(delta);
        }
        let page = procfs::page_size();
        self.resident_bytes.set((stat.rss * page) as i64);
    }
}
