//! Dynamic broker configs: read all, replace all.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::Result;

const ALL: &str = include_str!("../../queries/postgres/broker_configs_all.sql");
const CLEAR: &str = include_str!("../../queries/postgres/broker_configs_clear.sql");
const INSERT: &str = include_str!("../../queries/postgres/broker_config_insert.sql");

/// Every dynamic broker config.
pub(super) async fn all(pool: &PgPool) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(ALL).fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// Replaces the whole set in one transaction (concurrent replacements
/// serialise on the rows they delete and insert; the last one wins).
pub(super) async fn replace(pool: &PgPool, config: &BTreeMap<String, String>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(CLEAR).execute(&mut *tx).await?;
    for (name, value) in config {
        sqlx::query(INSERT)
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(?config, "replaced dynamic broker configs");
    Ok(())
}
