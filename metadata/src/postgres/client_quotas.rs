//! Client quotas: read all, alter some keys of some entities.

use sqlx::PgPool;

use crate::Result;
use crate::quotas::{self, ClientQuota, ClientQuotaAlteration, part_to_row};

const ALL: &str = include_str!("../../queries/postgres/client_quotas_all.sql");
const SET: &str = include_str!("../../queries/postgres/client_quota_set.sql");
const REMOVE: &str = include_str!("../../queries/postgres/client_quota_remove.sql");

/// A stored row as Postgres types it (kinds are `smallint`).
type PgQuotaRow = (i16, String, i16, String, String, f64);

/// Every client quota, by entity.
pub(super) async fn all(pool: &PgPool) -> Result<Vec<ClientQuota>> {
    let rows: Vec<PgQuotaRow> = sqlx::query_as(ALL).fetch_all(pool).await?;
    quotas::from_rows(
        rows.into_iter()
            .map(|(uk, un, ck, cn, key, value)| (i64::from(uk), un, i64::from(ck), cn, key, value))
            .collect(),
    )
}

/// Applies every alteration in one transaction (concurrent alterations of
/// the same keys serialise on their rows; the last one wins).
pub(super) async fn alter(pool: &PgPool, alterations: &[ClientQuotaAlteration]) -> Result<()> {
    quotas::validate(alterations)?;
    let mut tx = pool.begin().await?;
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
            query.execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(?alterations, "altered client quotas");
    Ok(())
}
