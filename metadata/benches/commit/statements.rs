//! pg_stat_statements, which the round-trip count and the profile read:
//! loading it, keeping it off the measured commits, and databases that
//! track their statements.

use anyhow::{Context as _, Result};
use floe_tests::TestPostgres;
use sqlx::PgPool;

/// Loads pg_stat_statements at the next start of the server, if this
/// Postgres has it. Returns whether it will be loaded.
pub async fn load_at_next_start(server: &TestPostgres) -> Result<bool> {
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

/// Turns tracking off except in the databases that ask for it, so that the
/// measured commits do not pay for it. (The setting exists once the module
/// is loaded; ALTER SYSTEM refuses to run in the implicit transaction of a
/// multi-statement query.)
pub async fn track_none_by_default(admin: &PgPool) -> Result<()> {
    for statement in [
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        "ALTER SYSTEM SET pg_stat_statements.track = 'none'",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::raw_sql(statement).execute(admin).await?;
    }
    Ok(())
}

/// A fresh database whose sessions track their statements.
#[derive(Debug)]
pub struct TrackedDatabase {
    pub url: String,
    /// The database's name, which picks its rows of pg_stat_statements.
    pub name: String,
}

/// Creates database `name`, whose sessions track statements (`track`: `top`
/// or `all`).
pub async fn tracked_database(
    server: &TestPostgres,
    admin: &PgPool,
    name: &str,
    track: &str,
) -> Result<TrackedDatabase> {
    let url = server.create_database(name)?;
    let name = url.rsplit('/').next().context("database url")?.to_string();
    // Both names are ours (letters, digits, `_`).
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" SET pg_stat_statements.track = '{track}'"
    )))
    .execute(admin)
    .await?;
    Ok(TrackedDatabase { url, name })
}

/// Clears the counters of every database, so that what is read next counts
/// only what came after.
pub async fn reset(admin: &PgPool) -> Result<()> {
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(admin)
        .await?;
    Ok(())
}

/// A statement on one line, at most `width` characters.
pub fn one_line(query: &str, width: usize) -> String {
    let line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > width {
        format!("{}…", line.chars().take(width - 1).collect::<String>())
    } else {
        line
    }
}
