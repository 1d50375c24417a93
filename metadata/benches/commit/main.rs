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
//!
//! This file runs the cases in order; each module beside it does one job:
//! [`options`] reads the flags, [`latency`], [`throughput`] and
//! [`reference`] measure, [`round_trips`] and [`profile`] read
//! pg_stat_statements, and [`report`] prints the tables and the JSON line.

mod cases;
mod committers;
mod environment;
mod latency;
mod options;
mod profile;
mod random;
mod reference;
mod report;
mod results;
mod round_trips;
mod statements;
mod stats;
mod targets;
mod throughput;
mod workload;

use std::sync::Arc;

use anyhow::{Result, ensure};
use floe_metadata::{MetadataStore, PostgresStore, SqliteStore};
use floe_tests::TestPostgres;
use sqlx::PgPool;

use crate::cases::Backend;
use crate::committers::MAX_STORES;
use crate::environment::{load_average, server_settings};
use crate::options::Options;
use crate::results::Results;

fn main() -> Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let mut server = TestPostgres::start_durable()?;
    let statements = runtime.block_on(statements::load_at_next_start(&server))?;
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

/// Every run of every case, then the report (and the profile, if asked
/// for). `statements`: whether pg_stat_statements is loaded.
async fn run(server: &TestPostgres, options: &Options, statements: bool) -> Result<()> {
    let admin = PgPool::connect(&server.url()).await?;
    let settings = server_settings(&admin).await?;
    ensure!(
        settings.contains("fsync=on") && settings.contains("synchronous_commit=on"),
        "the benchmark server is not durable: {settings}"
    );
    if statements {
        statements::track_none_by_default(&admin).await?;
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
        reference::run_cases(&url, options, &mut results).await?;
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
        Some(round_trips::count(server, &admin).await?)
    } else {
        println!("(pg_stat_statements is not available: no round-trip count)");
        None
    };
    println!(
        "(1-minute load average of the machine: {load_before} at the start, {} at the end)",
        load_average()
    );
    report::print(&results, round_trips, options);
    if options.profile && statements {
        profile::print(server, &admin, options).await?;
    }
    admin.close().await;
    Ok(())
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
    latency::run_cases(backend, &*stores[0], options, results).await?;
    throughput::run_cases(backend, stores, options, results).await
}
