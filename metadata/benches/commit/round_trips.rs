//! What one commit costs in round trips: the statements the store sends
//! (top level) and the transaction ids it takes, counted with
//! pg_stat_statements on a fresh database.

use anyhow::Result;
use floe_metadata::{MetadataStore as _, PostgresStore};
use floe_tests::TestPostgres;
use sqlx::PgPool;

use crate::statements::{self, one_line, tracked_database};
use crate::throughput::THROUGHPUT_PARTITIONS;
use crate::workload::{SegmentSeries, create_topic};

/// Commits of the round-trip count.
pub const ROUND_TRIP_COMMITS: usize = 200;

/// What one commit costs in round trips, measured on a fresh database with
/// pg_stat_statements tracking top-level statements.
#[derive(Debug, Clone)]
pub struct RoundTrips {
    /// Statements of any kind per commit.
    pub statements_per_commit: f64,
    /// Calls of `floe_commit_segment` per commit.
    pub commit_calls_per_commit: f64,
    /// The store's `NOTIFY`s per commit (sent after commits, merged).
    pub notifies_per_commit: f64,
    pub transactions_per_commit: f64,
    /// Each statement on one line, and its calls.
    pub statements: Vec<(String, i64)>,
}

/// The next transaction id the server will hand out.
async fn next_xid(admin: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            .fetch_one(admin)
            .await?,
    )
}

/// Counts the statements the store sends and the transaction ids it takes
/// for `ROUND_TRIP_COMMITS` 10-partition commits, after a warm-up that
/// prepares the statement.
pub async fn count(server: &TestPostgres, admin: &PgPool) -> Result<RoundTrips> {
    let database = tracked_database(server, admin, "round_trips", "top").await?;
    let store = PostgresStore::connect(&database.url).await?;
    let topic = create_topic(&store, "round-trips", THROUGHPUT_PARTITIONS as i32).await?;
    let mut segments = SegmentSeries::new(&topic, None);
    for _ in 0..20 {
        store.commit_segment(&segments.next_segment()?).await?;
    }
    statements::reset(admin).await?;
    let first_xid = next_xid(admin).await?;
    for _ in 0..ROUND_TRIP_COMMITS {
        store.commit_segment(&segments.next_segment()?).await?;
    }
    let last_xid = next_xid(admin).await?;
    let statements: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.query, s.calls FROM pg_stat_statements AS s \
         JOIN pg_database AS d ON d.oid = s.dbid \
         WHERE d.datname = $1 AND s.toplevel ORDER BY s.calls DESC",
    )
    .bind(&database.name)
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
