//! The reference for the `hot` case: commits per second of the smallest
//! durable transaction on one hot row, `UPDATE` of a counter and `INSERT`
//! of a row in one statement (pgbench's kind of transaction, in one round
//! trip), with the committers and pools of the throughput cases. Commits
//! touching the same rows queue on their locks and each waits for the
//! flush of the one before, so this is as fast as the `hot` case could go
//! on the machine during the run.

use std::time::Duration;

use anyhow::Result;
use sqlx::postgres::PgPoolOptions;

use crate::cases::{Backend, Scenario};
use crate::committers::{self, COMMITTERS, MAX_STORES};
use crate::options::Options;
use crate::results::{Results, ThroughputRun};

/// The tables of the transaction, in the run's database.
const SETUP: &str = "CREATE TABLE bench_counter (id integer PRIMARY KEY, n bigint NOT NULL) \
         WITH (fillfactor = 50); \
     INSERT INTO bench_counter VALUES (1, 0); \
     CREATE TABLE bench_rows (n bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())";

/// The transaction: one statement, one round trip.
const HOT_ROW_TRANSACTION: &str = "WITH counted AS (UPDATE bench_counter SET n = n + 1 WHERE id = 1 \
     RETURNING n) INSERT INTO bench_rows (n) SELECT n FROM counted";

/// Runs the reference with every number of committers once on the
/// database at `url` and adds the runs to `results`.
pub async fn run_cases(url: &str, options: &Options, results: &mut Results) -> Result<()> {
    let mut pools = Vec::with_capacity(MAX_STORES);
    for _ in 0..MAX_STORES {
        pools.push(
            PgPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect(url)
                .await?,
        );
    }
    sqlx::raw_sql(SETUP).execute(&pools[0]).await?;
    let measure = Duration::from_secs_f64(options.seconds);
    for committers in COMMITTERS {
        let stores = committers.min(MAX_STORES);
        let histogram = committers::measure(committers, measure, |committer| {
            let pool = pools[committer % stores].clone();
            move || {
                let pool = pool.clone();
                async move {
                    sqlx::query(HOT_ROW_TRANSACTION).execute(&pool).await?;
                    Ok(())
                }
            }
        })
        .await?;
        let run = ThroughputRun::new(stores, &histogram, measure);
        eprintln!(
            "  reference hot row {committers:>2} committers: {:.0} transactions/s",
            run.per_second
        );
        results.add_throughput(Backend::Reference, Scenario::Hot, committers, run);
    }
    for pool in pools {
        pool.close().await;
    }
    Ok(())
}
