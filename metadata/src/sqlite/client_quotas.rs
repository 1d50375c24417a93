//! Client quotas: read all, alter some keys of some entities.

use sqlx::SqlitePool;

use super::SqliteStore;
use crate::Result;
use crate::quotas::{self, ClientQuota, ClientQuotaAlteration, QuotaRow, part_to_row};

const ALL: &str = include_str!("../../queries/sqlite/client_quotas_all.sql");
const SET: &str = include_str!("../../queries/sqlite/client_quota_set.sql");
const REMOVE: &str = include_str!("../../queries/sqlite/client_quota_remove.sql");

/// Every client quota, by entity.
pub(super) async fn all(pool: &SqlitePool) -> Result<Vec<ClientQuota>> {
    let rows: Vec<QuotaRow> = sqlx::query_as(ALL).fetch_all(pool).await?;
    quotas::from_rows(rows)
}

/// Applies every alteration in one transaction.
pub(super) async fn alter(
    store: &SqliteStore,
    alterations: &[ClientQuotaAlteration],
) -> Result<()> {
    quotas::validate(alterations)?;
    let mut write = store.begin_write().await?;
    for alteration in alterations {
        let (user_kind, user_name) = part_to_row(&alteration.entity.user);
        let (client_kind, client_name) = part_to_row(&alteration.entity.client_id);
        for (key, value) in &alteration.ops {
            let query = match value {
                Some(value) => sqlx::query(SET)
                    .bind(user_kind)
                    .bind(user_name)
                    .bind(client_kind)
                    .bind(client_name)
                    .bind(key)
                    .bind(value),
                None => sqlx::query(REMOVE)
                    .bind(user_kind)
                    .bind(user_name)
                    .bind(client_kind)
                    .bind(client_name)
                    .bind(key),
            };
            query.execute(&mut *write.tx).await?;
        }
    }
    write.commit().await?;
    tracing::info!(?alterations, "altered client quotas");
    Ok(())
}
