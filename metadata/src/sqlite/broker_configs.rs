//! Dynamic broker configs: read all, replace all.

use std::collections::BTreeMap;

use sqlx::SqlitePool;

use super::SqliteStore;
use crate::Result;

const ALL: &str = include_str!("../../queries/sqlite/broker_configs_all.sql");
const CLEAR: &str = include_str!("../../queries/sqlite/broker_configs_clear.sql");
const INSERT: &str = include_str!("../../queries/sqlite/broker_config_insert.sql");

/// Every dynamic broker config.
pub(super) async fn all(pool: &SqlitePool) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(ALL).fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// Replaces the whole set in one transaction.
pub(super) async fn replace(store: &SqliteStore, config: &BTreeMap<String, String>) -> Result<()> {
    let mut write = store.begin_write().await?;
    sqlx::query(CLEAR).execute(&mut *write.tx).await?;
    for (name, value) in config {
        sqlx::query(INSERT)
            .bind(name)
            .bind(value)
            .execute(&mut *write.tx)
            .await?;
    }
    write.commit().await?;
    tracing::info!(?config, "replaced dynamic broker configs");
    Ok(())
}
