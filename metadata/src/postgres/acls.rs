//! ACL bindings: create, describe and delete by Kafka's filters, and the
//! version every agent polls. Writers serialise on the version row.

use sqlx::{PgPool, Postgres, Transaction};

use crate::acls::{self, AclBinding, AclBindingFilter, ResourceType, to_row};
use crate::{MetadataError, Result};

const VERSION: &str = include_str!("../../queries/postgres/acl_version.sql");
const BUMP: &str = include_str!("../../queries/postgres/acl_version_bump.sql");
const ALL: &str = include_str!("../../queries/postgres/acls_all.sql");
const OF_TYPE: &str = include_str!("../../queries/postgres/acls_of_type.sql");
const INSERT: &str = include_str!("../../queries/postgres/acl_insert.sql");
const DELETE: &str = include_str!("../../queries/postgres/acl_delete.sql");

/// A stored row as Postgres types it (codes are `smallint`).
type PgRow = (i16, String, i16, String, String, i16, i16);

/// The ACL version.
pub(super) async fn version(pool: &PgPool) -> Result<i64> {
    let version: i64 = sqlx::query_scalar(VERSION)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| MetadataError::Corrupt("acl_version has no row".into()))?;
    Ok(version)
}

/// Reads the bindings of `resource_type` (all of them for `None`) inside `tx`.
async fn read(
    tx: &mut Transaction<'_, Postgres>,
    resource_type: Option<ResourceType>,
) -> Result<Vec<AclBinding>> {
    let rows: Vec<PgRow> = match resource_type {
        Some(t) => {
            sqlx::query_as(OF_TYPE)
                .bind(i16::from(t.code()))
                .fetch_all(&mut **tx)
                .await?
        }
        None => sqlx::query_as(ALL).fetch_all(&mut **tx).await?,
    };
    rows.into_iter()
        .map(|(rt, name, pt, principal, host, op, perm)| {
            acls::from_row((
                i64::from(rt),
                name,
                i64::from(pt),
                principal,
                host,
                i64::from(op),
                i64::from(perm),
            ))
        })
        .collect()
}

/// Every binding and the version they are at, read in one transaction.
pub(super) async fn all(pool: &PgPool) -> Result<(i64, Vec<AclBinding>)> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *tx)
        .await?;
    let version: i64 = sqlx::query_scalar(VERSION).fetch_one(&mut *tx).await?;
    let acls = read(&mut tx, None).await?;
    tx.commit().await?;
    Ok((version, acls))
}

/// The bindings `filter` matches.
pub(super) async fn describe(pool: &PgPool, filter: &AclBindingFilter) -> Result<Vec<AclBinding>> {
    let mut tx = pool.begin().await?;
    let rows = read(&mut tx, acls::type_to_read(std::slice::from_ref(filter))).await?;
    tx.commit().await?;
    Ok(rows.into_iter().filter(|acl| filter.matches(acl)).collect())
}

/// Adds every binding in one transaction; moves the version if any was new.
pub(super) async fn create(pool: &PgPool, bindings: &[AclBinding]) -> Result<()> {
    acls::validate_all(bindings)?;
    let mut tx = pool.begin().await?;
    sqlx::query_scalar::<_, i64>(BUMP)
        .fetch_one(&mut *tx)
        .await?;
    let mut added = 0;
    for acl in bindings {
        let (rt, name, pt, principal, host, op, perm) = to_row(acl);
        added += sqlx::query(INSERT)
            .bind(rt)
            .bind(name)
            .bind(pt)
            .bind(principal)
            .bind(host)
            .bind(op)
            .bind(perm)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    if added == 0 {
        tx.rollback().await?;
        return Ok(());
    }
    tx.commit().await?;
    tracing::info!(added, "created ACLs");
    Ok(())
}

/// Deletes, in one transaction, every binding some filter matches;
/// answers per filter what it matched.
pub(super) async fn delete(
    pool: &PgPool,
    filters: &[AclBindingFilter],
) -> Result<Vec<Vec<AclBinding>>> {
    let mut tx = pool.begin().await?;
    // The bump first: it locks the version row, so no other writer changes
    // the ACLs between the read and the deletes.
    sqlx::query_scalar::<_, i64>(BUMP)
        .fetch_one(&mut *tx)
        .await?;
    let rows = read(&mut tx, acls::type_to_read(filters)).await?;
    let (per_filter, doomed) = acls::matches_per_filter(&rows, filters);
    if doomed.is_empty() {
        tx.rollback().await?;
        return Ok(per_filter);
    }
    for acl in &doomed {
        let (rt, name, pt, principal, host, op, perm) = to_row(acl);
        sqlx::query(DELETE)
            .bind(rt)
            .bind(name)
            .bind(pt)
            .bind(principal)
            .bind(host)
            .bind(op)
            .bind(perm)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(deleted = doomed.len(), "deleted ACLs");
    Ok(per_filter)
}
