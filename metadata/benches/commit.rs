//! Segment commit latency and throughput of the metadata store, on a
//! throwaway Postgres with durable commits (fsync and synchronous_commit on,
//! as in production) and, for comparison, on a SQLite file (WAL,
//! synchronous=FULL, as the embedded store runs).
//!
//! ```text
//! cargo bench -p floe-metadata --bench commit [-- OPTIONS]
//! ```
//!
//! * Latency: sequential commits touching 1, 100 and 1,000 partitions, one
//!   batch of 10 records per partition, of a plain producer and of an
//!   idempotent one (one producer writing every partition, so every batch
//!   is checked against and trims its producer's history), after a warm-up.
//! * Throughput: commits per second of 10-partition segments with 1, 4 and
//!   16 concurrent committers spread over up to 4 stores (an agent fleet:
//!   one store and its connection pool per agent, several uploads in flight
//!   per agent). `hot`: every segment touches the same 10 partitions (one
//!   10-partition topic that every agent writes, so commits queue on the
//!   partitions' row locks); `spread`: 10 random partitions of 1,000.
//!   SQLite is one agent: one store for every committer.
//! * Reference (`hot-row`): the smallest durable transaction on one hot row
//!   (`UPDATE` of a counter and `INSERT` of a row, one statement) with the
//!   same committers and pools: the ceiling of the `hot` case on the
//!   machine as it is during the run, for reading the other numbers.
//! * Round trips (Postgres): the statements the store sends per commit
//!   (pg_stat_statements, top level: the call of `floe_commit_segment`, and
//!   the `NOTIFY` the store sends afterwards in the background) and the
//!   transaction ids each commit takes (subtransactions would take more).
//!   sqlx's connection check (a Sync message before a statement, which the
//!   store now skips for connections in steady use) is not a statement and
//!   not counted.
//!
//! Every case runs `--runs` times (default 3), each run on a fresh
//! database, and the tables show the median of the runs: the machines are
//! shared and fsync times vary a lot. A table and a JSON line go to stdout.
//!
//! Options: `--runs N`; `--seconds S`, the measured time of each throughput
//! case (default 3); `--quick`, a tenth of the latency commits (a smoke
//! test); `--postgres-only`; `--profile`, which also prints where the time
//! of 1,000- and 10-partition commits goes inside `floe_commit_segment`
//! (pg_stat_statements with `track = all`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use floe_metadata::{
    BatchEntry, BatchOutcome, CommitEntry, MetadataStore, NewTopic, PostgresStore, ProducerBatch,
    SegmentCommit, SqliteStore, Topic, TopicId,
};
use floe_tests::TestPostgres;
use hdrhistogram::Histogram;
use sqlx::PgPool;

/// Records per batch; also the offsets each batch takes.
const OFFSETS_PER_BATCH: i64 = 10;
/// Bytes per batch in the made-up segments.
const BYTES_PER_BATCH: u64 = 1_000;
/// Bytes before the first batch (the segment header).
const HEADER_BYTES: u64 = 12;

/// Partitions touched by each latency case.
const LATENCY_PARTITIONS: [i32; 3] = [1, 100, 1_000];
/// Partitions touched by each throughput commit.
const THROUGHPUT_PARTITIONS: usize = 10;
/// Partitions of the topic the `spread` commits pick from.
const SPREAD_TOPIC_PARTITIONS: i32 = 1_000;
/// Concurrent committers of the throughput cases.
const COMMITTERS: [usize; 3] = [1, 4, 16];
/// Most stores (agents) the committers are spread over.
const MAX_STORES: usize = 4;
/// Unmeasured time at the start of each throughput case.
const THROUGHPUT_WARMUP: Duration = Duration::from_millis(500);
/// Commits of the round-trip count.
const ROUND_TRIP_COMMITS: usize = 200;

/// The targets of the issue, checked on the Postgres medians.
const TARGET_P50_1_MS: f64 = 1.0;
const TARGET_P99_1000_MS: f64 = 20.0;
const TARGET_HOT_16_PER_S: f64 = 1_500.0;

#[derive(Debug, Clone)]
struct Options {
    runs: usize,
    seconds: f64,
    quick: bool,
    sqlite: bool,
    profile: bool,
}

impl Options {
    fn parse() -> Result<Options> {
        let mut options = Options {
            runs: 3,
            seconds: 3.0,
            quick: false,
            sqlite: true,
            profile: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // Added by `cargo bench`.
                "--bench" => {}
                "--runs" => options.runs = args.next().context("--runs N")?.parse()?,
                "--seconds" => options.seconds = args.next().context("--seconds S")?.parse()?,
                "--quick" => options.quick = true,
                "--postgres-only" => options.sqlite = false,
                "--profile" => options.profile = true,
                other => bail!(
                    "unknown option {other:?}; options: --runs N, --seconds S, --quick, \
                     --postgres-only, --profile"
                ),
            }
        }
        ensure!(options.runs >= 1, "--runs must be at least 1");
        ensure!(options.seconds > 0.0, "--seconds must be positive");
        Ok(options)
    }

    /// Warm-up and measured commits of a latency case. (SQLite's large
    /// commits take a quarter of a second: fewer of them.)
    fn latency_commits(&self, backend: Backend, partitions: i32) -> (usize, usize) {
        let commits = match (backend, partitions) {
            (_, 1) => 2_000,
            (Backend::Sqlite, 100) => 200,
            (Backend::Sqlite, _) => 50,
            (_, 100) => 500,
            (_, _) => 200,
        };
        let commits = if self.quick { commits / 10 } else { commits };
        (commits / 10, commits)
    }
}

/// The backends measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Backend {
    Postgres,
    Sqlite,
    /// Not a store: the same Postgres running the smallest durable
    /// transaction on one hot row (see [`reference`]), the ceiling of the
    /// `hot` case on the machine as it is during the run.
    Reference,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
            Backend::Reference => "hot-row",
        }
    }
}

/// Which partitions the throughput commits touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    /// The same 10 partitions every time.
    Hot,
    /// 10 random partitions of 1,000.
    Spread,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Hot => "hot",
            Scenario::Spread => "spread",
        }
    }
}

/// One run of a latency case, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct LatencyRun {
    commits: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

/// One run of a throughput case.
#[derive(Debug, Clone, Copy)]
struct ThroughputRun {
    stores: usize,
    per_second: f64,
    p50: f64,
    p99: f64,
}

/// Every run of every case, by (backend, partitions, idempotent) and
/// (backend, scenario, committers).
#[derive(Debug, Default)]
struct Results {
    latency: BTreeMap<(Backend, i32, bool), Vec<LatencyRun>>,
    throughput: BTreeMap<(Backend, Scenario, usize), Vec<ThroughputRun>>,
}

fn main() -> Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let mut server = TestPostgres::start_durable()?;
    let statements = runtime.block_on(load_pg_stat_statements(&server))?;
    if statements {
        server.restart()?;
    }
    let result = runtime.block_on(run(&server, &options, statements));
    if result.is_err() {
        eprintln!(
            "--- postgres log ---\n{}",
            floe_tests::process::tail(&server.log(), 4_000)
        );
    }
    result
}

async fn run(server: &TestPostgres, options: &Options, statements: bool) -> Result<()> {
    let admin = PgPool::connect(&server.url()).await?;
    let settings = server_settings(&admin).await?;
    ensure!(
        settings.contains("fsync=on") && settings.contains("synchronous_commit=on"),
        "the benchmark server is not durable: {settings}"
    );
    if statements {
        // Tracking off except in the databases that ask for it, so that the
        // measured commits do not pay for it. (The setting exists once the
        // module is loaded; ALTER SYSTEM refuses to run in the implicit
        // transaction of a multi-statement query.)
        for statement in [
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            "ALTER SYSTEM SET pg_stat_statements.track = 'none'",
            "SELECT pg_reload_conf()",
        ] {
            sqlx::raw_sql(statement).execute(&admin).await?;
        }
    }
    println!("Metadata commit benchmark: {settings}");
    println!(
        "{} run(s), each on a fresh database; tables show medians of the runs",
        options.runs
    );

    let mut results = Results::default();
    let load_before = load_average();
    for run in 1..=options.runs {
        eprintln!(
            "run {run}/{}: postgres (load average {})",
            options.runs,
            load_average()
        );
        let url = server.create_database(&format!("commit_run{run}"))?;
        let mut postgres = Vec::new();
        for _ in 0..MAX_STORES {
            postgres.push(PostgresStore::connect(&url).await?);
        }
        let stores: Vec<Arc<dyn MetadataStore>> = postgres
            .iter()
            .map(|store| Arc::new(store.clone()) as Arc<dyn MetadataStore>)
            .collect();
        run_backend(Backend::Postgres, &stores, options, &mut results).await?;
        for store in &postgres {
            store.close().await;
        }
        eprintln!("run {run}/{}: reference", options.runs);
        reference(&url, options, &mut results).await?;
        if options.sqlite {
            eprintln!("run {run}/{}: sqlite", options.runs);
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("metadata.db").display());
            let sqlite = SqliteStore::connect(&url).await?;
            let store: Arc<dyn MetadataStore> = Arc::new(sqlite.clone());
            run_backend(Backend::Sqlite, &[store], options, &mut results).await?;
            sqlite.close().await;
        }
    }

    let round_trips = if statements {
        Some(round_trips(server, &admin).await?)
    } else {
        println!("(pg_stat_statements is not available: no round-trip count)");
        None
    };
    println!(
        "(1-minute load average of the machine: {load_before} at the start, {} at the end)",
        load_average()
    );
    report(&results, round_trips, options);
    if options.profile && statements {
        profile(server, &admin, options).await?;
    }
    admin.close().await;
    Ok(())
}

/// Loads pg_stat_statements at the next start of the server, if this
/// Postgres has it. Returns whether it will be loaded.
async fn load_pg_stat_statements(server: &TestPostgres) -> Result<bool> {
    let admin = PgPool::connect(&server.url()).await?;
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements')",
    )
    .fetch_one(&admin)
    .await?;
    if available {
        sqlx::raw_sql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            .execute(&admin)
            .await?;
    }
    admin.close().await;
    Ok(available)
}

/// The server's version and durability settings, as one line.
async fn server_settings(admin: &PgPool) -> Result<String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings WHERE name IN \
         ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', \
          'wal_sync_method', 'shared_buffers') ORDER BY name",
    )
    .fetch_all(admin)
    .await?;
    Ok(rows
        .iter()
        .map(|(name, setting)| format!("{name}={setting}"))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The latency and throughput cases of one run on one backend. `stores`
/// are handles on one fresh database; the throughput cases spread their
/// committers over them.
async fn run_backend(
    backend: Backend,
    stores: &[Arc<dyn MetadataStore>],
    options: &Options,
    results: &mut Results,
) -> Result<()> {
    let store = &*stores[0];
    for partitions in LATENCY_PARTITIONS {
        for idempotent in [false, true] {
            let (warmup, commits) = options.latency_commits(backend, partitions);
            let histogram = latency(store, partitions, idempotent, warmup, commits).await?;
            let run = LatencyRun {
                commits,
                p50: millis(histogram.value_at_quantile(0.5)),
                p99: millis(histogram.value_at_quantile(0.99)),
                max: millis(histogram.max()),
            };
            eprintln!(
                "  {} latency {partitions:>5} partitions {}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                backend.name(),
                producer_name(idempotent),
                run.p50,
                run.p99,
                run.max
            );
            results
                .latency
                .entry((backend, partitions, idempotent))
                .or_default()
                .push(run);
        }
    }

    let hot = create_topic(store, "hot", THROUGHPUT_PARTITIONS as i32).await?;
    let spread = create_topic(store, "spread", SPREAD_TOPIC_PARTITIONS).await?;
    for scenario in [Scenario::Hot, Scenario::Spread] {
        let topic = match scenario {
            Scenario::Hot => &hot,
            Scenario::Spread => &spread,
        };
        for committers in COMMITTERS {
            let used = &stores[..committers.min(stores.len())];
            let measure = Duration::from_secs_f64(options.seconds);
            let (count, histogram) = throughput(used, topic, scenario, committers, measure).await?;
            let run = ThroughputRun {
                stores: used.len(),
                per_second: count as f64 / measure.as_secs_f64(),
                p50: millis(histogram.value_at_quantile(0.5)),
                p99: millis(histogram.value_at_quantile(0.99)),
            };
            eprintln!(
                "  {} throughput {} {committers:>2} committers: {:.0} commits/s",
                backend.name(),
                scenario.name(),
                run.per_second
            );
            results
                .throughput
                .entry((backend, scenario, committers))
                .or_default()
                .push(run);
        }
    }
    Ok(())
}

fn producer_name(idempotent: bool) -> &'static str {
    if idempotent { "idempotent" } else { "plain" }
}

async fn create_topic(store: &dyn MetadataStore, name: &str, partitions: i32) -> Result<Topic> {
    Ok(store
        .create_topic(NewTopic {
            name: name.to_string(),
            partitions,
            config: BTreeMap::new(),
        })
        .await?)
}

/// A histogram of microseconds.
fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn millis(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

/// A segment holding one batch for each of `partitions` of `topic`, back to
/// back; with `producer`, batches of that idempotent producer at epoch 0
/// starting at `base_sequence` on every partition.
fn segment(
    topic: TopicId,
    partitions: impl IntoIterator<Item = i32>,
    producer: Option<(i64, i32)>,
) -> SegmentCommit {
    let segment_id = uuid::Uuid::now_v7();
    let mut position = HEADER_BYTES;
    let entries: Vec<CommitEntry> = partitions
        .into_iter()
        .map(|partition| {
            let batch = BatchEntry {
                byte_offset: position,
                byte_len: BYTES_PER_BATCH,
                offset_count: OFFSETS_PER_BATCH,
                max_timestamp: 1_700_000_000_000,
                producer: producer.map(|(producer_id, base_sequence)| ProducerBatch {
                    producer_id,
                    producer_epoch: 0,
                    base_sequence,
                }),
            };
            position += BYTES_PER_BATCH;
            CommitEntry {
                topic_id: topic,
                partition,
                batches: vec![batch],
            }
        })
        .collect();
    SegmentCommit {
        segment_id,
        object_key: format!("segments/{segment_id}.floe"),
        size: position + 64,
        entries,
    }
}

/// Fails unless every batch was appended.
fn ensure_appended(outcomes: &[Vec<BatchOutcome>]) -> Result<()> {
    for outcome in outcomes.iter().flatten() {
        ensure!(
            matches!(outcome, BatchOutcome::Appended { .. }),
            "a batch was not appended: {outcome:?}"
        );
    }
    Ok(())
}

/// Commits `warmup + commits` segments touching partitions
/// `0..partitions` of a new topic, one after the other, and returns the
/// latencies of the last `commits`.
async fn latency(
    store: &dyn MetadataStore,
    partitions: i32,
    idempotent: bool,
    warmup: usize,
    commits: usize,
) -> Result<Histogram<u64>> {
    let name = format!("latency-{partitions}-{}", producer_name(idempotent));
    let topic = create_topic(store, &name, partitions).await?;
    let producer_id = if idempotent {
        Some(store.init_producer_id(None).await?.producer_id)
    } else {
        None
    };
    let mut histogram = histogram()?;
    for i in 0..warmup + commits {
        let sequence = i32::try_from(i as i64 * OFFSETS_PER_BATCH)?;
        let commit = segment(
            topic.id,
            0..partitions,
            producer_id.map(|id| (id, sequence)),
        );
        let start = Instant::now();
        let outcomes = store.commit_segment(&commit).await?;
        let elapsed = start.elapsed();
        ensure_appended(&outcomes)?;
        if i >= warmup {
            histogram.record(micros(elapsed))?;
        }
    }
    Ok(histogram)
}

/// A small deterministic generator (splitmix64) for the spread partitions.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `count` distinct partitions of `0..partitions`, sorted.
    fn partitions(&mut self, count: usize, partitions: i32) -> Vec<i32> {
        let mut chosen = Vec::with_capacity(count);
        while chosen.len() < count {
            let partition = (self.next() % partitions as u64) as i32;
            if !chosen.contains(&partition) {
                chosen.push(partition);
            }
        }
        chosen.sort_unstable();
        chosen
    }
}

/// Runs `committers` tasks committing 10-partition segments of `topic` as
/// fast as they can over `stores` (round robin) for a warm-up and then
/// `measure`; returns the commits that completed within `measure` and their
/// latencies.
async fn throughput(
    stores: &[Arc<dyn MetadataStore>],
    topic: &Topic,
    scenario: Scenario,
    committers: usize,
    measure: Duration,
) -> Result<(u64, Histogram<u64>)> {
    let start = Instant::now() + THROUGHPUT_WARMUP;
    let end = start + measure;
    let mut tasks = Vec::with_capacity(committers);
    for committer in 0..committers {
        let store = Arc::clone(&stores[committer % stores.len()]);
        let topic = topic.clone();
        tasks.push(tokio::spawn(async move {
            let mut random = SplitMix(committer as u64 + 1);
            let mut histogram = histogram()?;
            let mut count = 0;
            while Instant::now() < end {
                let partitions = match scenario {
                    Scenario::Hot => (0..topic.partitions).collect(),
                    Scenario::Spread => random.partitions(THROUGHPUT_PARTITIONS, topic.partitions),
                };
                let commit = segment(topic.id, partitions, None);
                let begun = Instant::now();
                let outcomes = store.commit_segment(&commit).await?;
                let done = Instant::now();
                ensure_appended(&outcomes)?;
                if done >= start && done < end {
                    count += 1;
                    histogram.record(micros(done - begun))?;
                }
            }
            anyhow::Ok((count, histogram))
        }));
    }
    let mut total = 0;
    let mut histogram = histogram()?;
    for task in tasks {
        let (count, part) = task.await??;
        total += count;
        histogram.add(part)?;
    }
    Ok((total, histogram))
}

/// The reference for the `hot` case: commits per second of the smallest
/// durable transaction on one hot row, `UPDATE` of a counter and `INSERT`
/// of a row in one statement (pgbench's kind of transaction, in one round
/// trip), with the committers and pools of the throughput cases. Commits
/// touching the same rows queue on their locks and each waits for the
/// flush of the one before, so this is as fast as the `hot` case could go
/// on the machine during the run.
async fn reference(url: &str, options: &Options, results: &mut Results) -> Result<()> {
    let mut pools = Vec::with_capacity(MAX_STORES);
    for _ in 0..MAX_STORES {
        pools.push(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect(url)
                .await?,
        );
    }
    sqlx::raw_sql(
        "CREATE TABLE bench_counter (id integer PRIMARY KEY, n bigint NOT NULL) \
             WITH (fillfactor = 50); \
         INSERT INTO bench_counter VALUES (1, 0); \
         CREATE TABLE bench_rows (n bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&pools[0])
    .await?;
    let measure = Duration::from_secs_f64(options.seconds);
    for committers in COMMITTERS {
        let start = Instant::now() + THROUGHPUT_WARMUP;
        let end = start + measure;
        let mut tasks = Vec::with_capacity(committers);
        for committer in 0..committers {
            let pool = pools[committer % committers.min(MAX_STORES)].clone();
            tasks.push(tokio::spawn(async move {
                let mut histogram = histogram()?;
                while Instant::now() < end {
                    let begun = Instant::now();
                    sqlx::query(
                        "WITH counted AS (UPDATE bench_counter SET n = n + 1 WHERE id = 1 \
                         RETURNING n) INSERT INTO bench_rows (n) SELECT n FROM counted",
                    )
                    .execute(&pool)
                    .await?;
                    let done = Instant::now();
                    if done >= start && done < end {
                        histogram.record(micros(done - begun))?;
                    }
                }
                anyhow::Ok(histogram)
            }));
        }
        let mut histogram = histogram()?;
        for task in tasks {
            histogram.add(task.await??)?;
        }
        let run = ThroughputRun {
            stores: committers.min(MAX_STORES),
            per_second: histogram.len() as f64 / measure.as_secs_f64(),
            p50: millis(histogram.value_at_quantile(0.5)),
            p99: millis(histogram.value_at_quantile(0.99)),
        };
        eprintln!(
            "  reference hot row {committers:>2} committers: {:.0} transactions/s",
            run.per_second
        );
        results
            .throughput
            .entry((Backend::Reference, Scenario::Hot, committers))
            .or_default()
            .push(run);
    }
    for pool in pools {
        pool.close().await;
    }
    Ok(())
}

/// What one commit costs in round trips, measured on a fresh database with
/// pg_stat_statements tracking top-level statements.
#[derive(Debug, Clone)]
struct RoundTrips {
    /// Statements of any kind per commit.
    statements_per_commit: f64,
    /// Calls of `floe_commit_segment` per commit.
    commit_calls_per_commit: f64,
    /// The store's `NOTIFY`s per commit (sent after commits, merged).
    notifies_per_commit: f64,
    transactions_per_commit: f64,
    statements: Vec<(String, i64)>,
}

/// The next transaction id the server will hand out.
async fn next_xid(admin: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            .fetch_one(admin)
            .await?,
    )
}

/// A fresh database whose sessions track statements (`top` or `all`).
async fn tracked_database(
    server: &TestPostgres,
    admin: &PgPool,
    name: &str,
    track: &str,
) -> Result<String> {
    let url = server.create_database(name)?;
    let database = url.rsplit('/').next().context("database url")?.to_string();
    // Both names are ours (letters, digits, `_`).
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" SET pg_stat_statements.track = '{track}'"
    )))
    .execute(admin)
    .await?;
    Ok(url)
}

/// Counts the statements the store sends and the transaction ids it takes
/// for `ROUND_TRIP_COMMITS` 10-partition commits, after a warm-up that
/// prepares the statement.
async fn round_trips(server: &TestPostgres, admin: &PgPool) -> Result<RoundTrips> {
    let url = tracked_database(server, admin, "round_trips", "top").await?;
    let database = url.rsplit('/').next().context("database url")?.to_string();
    let store = PostgresStore::connect(&url).await?;
    let topic = create_topic(&store, "round-trips", THROUGHPUT_PARTITIONS as i32).await?;
    for _ in 0..20 {
        store
            .commit_segment(&segment(topic.id, 0..topic.partitions, None))
            .await?;
    }
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(admin)
        .await?;
    let first_xid = next_xid(admin).await?;
    for _ in 0..ROUND_TRIP_COMMITS {
        store
            .commit_segment(&segment(topic.id, 0..topic.partitions, None))
            .await?;
    }
    let last_xid = next_xid(admin).await?;
    let statements: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.query, s.calls FROM pg_stat_statements AS s \
         JOIN pg_database AS d ON d.oid = s.dbid \
         WHERE d.datname = $1 AND s.toplevel ORDER BY s.calls DESC",
    )
    .bind(&database)
    .fetch_all(admin)
    .await?;
    store.close().await;
    let calls: i64 = statements.iter().map(|(_, calls)| calls).sum();
    let calls_of = |needle: &str| {
        statements
            .iter()
            .filter(|(query, _)| query.contains(needle))
            .map(|(_, calls)| calls)
            .sum::<i64>() as f64
            / ROUND_TRIP_COMMITS as f64
    };
    Ok(RoundTrips {
        statements_per_commit: calls as f64 / ROUND_TRIP_COMMITS as f64,
        commit_calls_per_commit: calls_of("floe_commit_segment("),
        notifies_per_commit: calls_of("pg_notify("),
        transactions_per_commit: (last_xid - first_xid) as f64 / ROUND_TRIP_COMMITS as f64,
        statements: statements
            .into_iter()
            .map(|(query, calls)| (one_line(&query, 100), calls))
            .collect(),
    })
}

/// A statement on one line, at most `width` characters.
fn one_line(query: &str, width: usize) -> String {
    let line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > width {
        format!("{}…", line.chars().take(width - 1).collect::<String>())
    } else {
        line
    }
}

/// Prints where the time of sequential commits goes inside
/// `floe_commit_segment`: every statement it runs, by total time per
/// commit, for 1,000-partition commits (plain and idempotent) and
/// 10-partition ones.
async fn profile(server: &TestPostgres, admin: &PgPool, options: &Options) -> Result<()> {
    let url = tracked_database(server, admin, "profile", "all").await?;
    let database = url.rsplit('/').next().context("database url")?.to_string();
    let store = PostgresStore::connect(&url).await?;
    let scale = if options.quick { 5 } else { 1 };
    for (partitions, idempotent, commits) in
        [(1_000, false, 50), (1_000, true, 50), (10, false, 500)]
    {
        let commits = commits / scale;
        let name = format!("profile-{partitions}-{}", producer_name(idempotent));
        let topic = create_topic(&store, &name, partitions).await?;
        let producer_id = store.init_producer_id(None).await?.producer_id;
        // Prepare the statement and lay down the producer's histories
        // first, then reset the counters and measure.
        let mut sequence = 0;
        let commit_next = |sequence: &mut i32| {
            let commit = segment(
                topic.id,
                0..partitions,
                idempotent.then_some((producer_id, *sequence)),
            );
            *sequence += OFFSETS_PER_BATCH as i32;
            commit
        };
        for _ in 0..6 {
            store.commit_segment(&commit_next(&mut sequence)).await?;
        }
        sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(admin)
            .await?;
        let start = Instant::now();
        for _ in 0..commits {
            store.commit_segment(&commit_next(&mut sequence)).await?;
        }
        let client = start.elapsed().as_secs_f64() * 1_000.0 / commits as f64;
        let rows: Vec<(bool, String, i64, f64)> = sqlx::query_as(
            "SELECT s.toplevel, s.query, s.calls, s.total_exec_time FROM pg_stat_statements AS s \
             JOIN pg_database AS d ON d.oid = s.dbid \
             WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT 20",
        )
        .bind(&database)
        .fetch_all(admin)
        .await?;
        println!();
        println!(
            "Profile: {partitions}-partition commits, {} producer, {commits} commits, {client:.3} ms \
             per commit at the client; per commit:",
            producer_name(idempotent)
        );
        println!("{:>9} {:>9}  statement", "ms", "calls");
        for (toplevel, query, calls, total) in rows {
            let mark = if toplevel { "[top] " } else { "" };
            println!(
                "{:>9.3} {:>9.1}  {mark}{}",
                total / commits as f64,
                calls as f64 / commits as f64,
                one_line(&query, 110)
            );
        }
    }
    store.close().await;
    Ok(())
}

/// The machine's 1-minute load average: other work running beside the
/// benchmark makes its numbers noisy.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

/// The median of some numbers.
fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Prints the table, the targets and the JSON line.
fn report(results: &Results, round_trips: Option<RoundTrips>, options: &Options) {
    let mut table = String::new();
    let _ = writeln!(
        table,
        "\nLatency of sequential commits, one batch of {OFFSETS_PER_BATCH} records per partition"
    );
    let _ = writeln!(
        table,
        "{:<9} {:>10} {:<11} {:>8} {:>9} {:>9} {:>9}",
        "backend", "partitions", "producer", "commits", "p50 ms", "p99 ms", "max ms"
    );
    let mut latency_json = Vec::new();
    for ((backend, partitions, idempotent), runs) in &results.latency {
        let p50 = median(runs.iter().map(|run| run.p50));
        let p99 = median(runs.iter().map(|run| run.p99));
        let max = median(runs.iter().map(|run| run.max));
        let commits = runs.first().map_or(0, |run| run.commits);
        let _ = writeln!(
            table,
            "{:<9} {:>10} {:<11} {:>8} {:>9.3} {:>9.3} {:>9.3}",
            backend.name(),
            partitions,
            producer_name(*idempotent),
            commits,
            p50,
            p99,
            max
        );
        latency_json.push(serde_json::json!({
            "backend": backend.name(),
            "partitions": partitions,
            "producer": producer_name(*idempotent),
            "commits": commits,
            "p50_ms": round3(p50),
            "p99_ms": round3(p99),
            "max_ms": round3(max),
        }));
    }
    let _ = writeln!(
        table,
        "\nThroughput of {THROUGHPUT_PARTITIONS}-partition segments ({} s per case after {} ms of \
         warm-up; hot: the same {THROUGHPUT_PARTITIONS} partitions, spread: \
         {THROUGHPUT_PARTITIONS} random of {SPREAD_TOPIC_PARTITIONS})",
        options.seconds,
        THROUGHPUT_WARMUP.as_millis()
    );
    let _ = writeln!(
        table,
        "{:<9} {:<8} {:>10} {:>6} {:>10} {:>9} {:>9}",
        "backend", "scenario", "committers", "stores", "commits/s", "p50 ms", "p99 ms"
    );
    let mut throughput_json = Vec::new();
    for ((backend, scenario, committers), runs) in &results.throughput {
        let per_second = median(runs.iter().map(|run| run.per_second));
        let p50 = median(runs.iter().map(|run| run.p50));
        let p99 = median(runs.iter().map(|run| run.p99));
        let stores = runs.first().map_or(0, |run| run.stores);
        let _ = writeln!(
            table,
            "{:<9} {:<8} {:>10} {:>6} {:>10.0} {:>9.3} {:>9.3}",
            backend.name(),
            scenario.name(),
            committers,
            stores,
            per_second,
            p50,
            p99
        );
        throughput_json.push(serde_json::json!({
            "backend": backend.name(),
            "scenario": scenario.name(),
            "committers": committers,
            "stores": stores,
            "commits_per_s": per_second.round(),
            "p50_ms": round3(p50),
            "p99_ms": round3(p99),
        }));
    }

    let mut round_trips_json = serde_json::Value::Null;
    if let Some(round_trips) = &round_trips {
        let _ = writeln!(
            table,
            "\nRound trips (Postgres, {ROUND_TRIP_COMMITS} sequential commits of \
             {THROUGHPUT_PARTITIONS} partitions after warm-up): {:.2} statements per commit: \
             {:.2} call of floe_commit_segment (the commit's one round trip) and {:.2} NOTIFY \
             (sent after the commit, in the background, merged when commits come faster); \
             {:.2} transaction ids per commit",
            round_trips.statements_per_commit,
            round_trips.commit_calls_per_commit,
            round_trips.notifies_per_commit,
            round_trips.transactions_per_commit
        );
        for (query, calls) in &round_trips.statements {
            let _ = writeln!(table, "  {calls:>6} × {query}");
        }
        round_trips_json = serde_json::json!({
            "statements_per_commit": round3(round_trips.statements_per_commit),
            "commit_calls_per_commit": round3(round_trips.commit_calls_per_commit),
            "notifies_per_commit": round3(round_trips.notifies_per_commit),
            "xids_per_commit": round3(round_trips.transactions_per_commit),
        });
    }

    let latency_of = |partitions: i32, quantile: fn(&LatencyRun) -> f64| {
        results
            .latency
            .get(&(Backend::Postgres, partitions, false))
            .map(|runs| median(runs.iter().map(quantile)))
    };
    let hot_16 = results
        .throughput
        .get(&(Backend::Postgres, Scenario::Hot, 16))
        .map(|runs| median(runs.iter().map(|run| run.per_second)));
    let targets = [
        (
            format!("postgres 1-partition commit p50 <= {TARGET_P50_1_MS} ms"),
            latency_of(1, |run| run.p50).map(|p50| (p50, p50 <= TARGET_P50_1_MS)),
        ),
        (
            format!("postgres 1,000-partition commit p99 <= {TARGET_P99_1000_MS} ms"),
            latency_of(1_000, |run| run.p99).map(|p99| (p99, p99 <= TARGET_P99_1000_MS)),
        ),
        (
            format!("postgres hot, 16 committers >= {TARGET_HOT_16_PER_S} commits/s"),
            hot_16.map(|rate| (rate, rate >= TARGET_HOT_16_PER_S)),
        ),
    ];
    let reference_16 = results
        .throughput
        .get(&(Backend::Reference, Scenario::Hot, 16))
        .map(|runs| median(runs.iter().map(|run| run.per_second)));
    let _ = writeln!(table, "\nTargets (plain producer, medians):");
    let mut targets_json = Vec::new();
    for (target, got) in targets {
        let (value, met) = match got {
            Some((value, met)) => (value, Some(met)),
            None => (f64::NAN, None),
        };
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        };
        let _ = writeln!(table, "  {target}: {value:.3} ({verdict})");
        targets_json.push(serde_json::json!({
            "target": target, "value": round3(value), "met": met,
        }));
    }
    if let (Some(hot), Some(reference)) = (hot_16, reference_16) {
        let _ = writeln!(
            table,
            "  (the smallest durable hot-row transaction reached {reference:.0}/s with 16 \
             committers during the runs: the hot case ran at {:.0}% of it)",
            100.0 * hot / reference
        );
    }
    println!("{table}");
    let json = serde_json::json!({
        "bench": "metadata_commit",
        "runs": options.runs,
        "latency": latency_json,
        "throughput": throughput_json,
        "round_trips": round_trips_json,
        "targets": targets_json,
    });
    println!("{json}");
}

fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}
