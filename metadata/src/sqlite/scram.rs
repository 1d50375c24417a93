//! SCRAM credentials (KIP-554): read, store, delete.

use sqlx::SqlitePool;

use super::SqliteStore;

use crate::{Result, ScramCredential, validate};

const ALL: &str = include_str!("../../queries/sqlite/scram_credentials.sql");
const UPSERT: &str = include_str!("../../queries/sqlite/scram_credential_upsert.sql");
const DELETE: &str = include_str!("../../queries/sqlite/scram_credential_delete.sql");

type Row = (String, String, Vec<u8>, Vec<u8>, Vec<u8>, i64);

/// The credentials of `user` (of everyone when `None`).
pub(super) async fn list(pool: &SqlitePool, user: Option<&str>) -> Result<Vec<ScramCredential>> {
    let rows: Vec<Row> = sqlx::query_as(ALL).bind(user).fetch_all(pool).await?;
    rows.into_iter()
        .map(
            |(user, mechanism, salt, stored_key, server_key, iterations)| {
                Ok(ScramCredential {
                    user,
                    mechanism,
                    salt,
                    stored_key,
                    server_key,
                    iterations: i32::try_from(iterations).map_err(|_| {
                        crate::MetadataError::Corrupt(format!("scram iterations {iterations}"))
                    })?,
                })
            },
        )
        .collect()
}

/// Stores one credential, replacing the user's of the same mechanism.
pub(super) async fn upsert(store: &SqliteStore, c: &ScramCredential) -> Result<()> {
    validate::scram_credential(c)?;
    let mut write = store.begin_write().await?;
    sqlx::query(UPSERT)
        .bind(&c.user)
        .bind(&c.mechanism)
        .bind(&c.salt)
        .bind(&c.stored_key)
        .bind(&c.server_key)
        .bind(i64::from(c.iterations))
        .execute(&mut *write.tx)
        .await?;
    write.commit().await?;
    tracing::info!(user = %c.user, mechanism = %c.mechanism, "stored scram credential");
    Ok(())
}

/// Deletes a user's credential of `mechanism` (all when `None`).
pub(super) async fn delete(
    store: &SqliteStore,
    user: &str,
    mechanism: Option<&str>,
) -> Result<u64> {
    let mut write = store.begin_write().await?;
    let deleted = sqlx::query(DELETE)
        .bind(user)
        .bind(mechanism)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    write.commit().await?;
    tracing::info!(user, ?mechanism, deleted, "deleted scram credentials");
    Ok(deleted)
}
