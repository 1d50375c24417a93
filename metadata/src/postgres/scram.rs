//! SCRAM credentials (KIP-554): read, store, delete.

use sqlx::PgPool;

use crate::{Result, ScramCredential, validate};

const ALL: &str = include_str!("../../queries/postgres/scram_credentials.sql");
const UPSERT: &str = include_str!("../../queries/postgres/scram_credential_upsert.sql");
const DELETE: &str = include_str!("../../queries/postgres/scram_credential_delete.sql");

type Row = (String, String, Vec<u8>, Vec<u8>, Vec<u8>, i32);

/// The credentials of `user` (of everyone when `None`).
pub(super) async fn list(pool: &PgPool, user: Option<&str>) -> Result<Vec<ScramCredential>> {
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
                    iterations,
                })
            },
        )
        .collect()
}

/// Stores one credential, replacing the user's of the same mechanism.
pub(super) async fn upsert(pool: &PgPool, c: &ScramCredential) -> Result<()> {
    validate::scram_credential(c)?;
    sqlx::query(UPSERT)
        .bind(&c.user)
        .bind(&c.mechanism)
        .bind(&c.salt)
        .bind(&c.stored_key)
        .bind(&c.server_key)
        .bind(c.iterations)
        .execute(pool)
        .await?;
    tracing::info!(user = %c.user, mechanism = %c.mechanism, "stored scram credential");
    Ok(())
}

/// Deletes a user's credential of `mechanism` (all when `None`).
pub(super) async fn delete(pool: &PgPool, user: &str, mechanism: Option<&str>) -> Result<u64> {
    let deleted = sqlx::query(DELETE)
        .bind(user)
        .bind(mechanism)
        .execute(pool)
        .await?
        .rows_affected();
    tracing::info!(user, ?mechanism, deleted, "deleted scram credentials");
    Ok(deleted)
}
