//! `--profile`: where the time of sequential commits goes inside
//! `floe_commit_segment`, from pg_stat_statements tracking every statement
//! (nested ones too).

use std::time::Instant;

use anyhow::Result;
use floe_metadata::{MetadataStore as _, PostgresStore};
use floe_tests::TestPostgres;
use sqlx::PgPool;

use crate::cases::producer_name;
use crate::options::Options;
use crate::statements::{self, one_line, tracked_database};
use crate::workload::{SegmentSeries, create_topic};

/// Prints every statement `floe_commit_segment` runs, by total time per
/// commit, for 1,000-partition commits (plain and idempotent) and
/// 10-partition ones.
pub async fn print(server: &TestPostgres, admin: &PgPool, options: &Options) -> Result<()> {
    let database = tracked_database(server, admin, "profile", "all").await?;
    let store = PostgresStore::connect(&database.url).await?;
    let scale = if options.quick { 5 } else { 1 };
    for (partitions, idempotent, commits) in
        [(1_000, false, 50), (1_000, true, 50), (10, false, 500)]
    {
        let commits = commits / scale;
        let name = format!("profile-{partitions}-{}", producer_name(idempotent));
        let topic = create_topic(&store, &name, partitions).await?;
        let producer_id = store.init_producer_id(None).await?.producer_id;
        let mut segments = SegmentSeries::new(&topic, idempotent.then_some(producer_id));
        // Prepare the statement and lay down the producer's histories
        // first, then reset the counters and measure.
        for _ in 0..6 {
            store.commit_segment(&segments.next_segment()?).await?;
        }
        statements::reset(admin).await?;
        let start = Instant::now();
        for _ in 0..commits {
            store.commit_segment(&segments.next_segment()?).await?;
        }
        let client = start.elapsed().as_secs_f64() * 1_000.0 / commits as f64;
        let rows: Vec<(bool, String, i64, f64)> = sqlx::query_as(
            "SELECT s.toplevel, s.query, s.calls, s.total_exec_time FROM pg_stat_statements AS s \
             JOIN pg_database AS d ON d.oid = s.dbid \
             WHERE d.datname = $1 ORDER BY s.total_exec_time DESC LIMIT 20",
        )
        .bind(&database.name)
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
