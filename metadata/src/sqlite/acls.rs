//! ACL bindings: create, describe and delete by Kafka's filters, and the
//! version every agent polls.

use sqlx::{Sqlite, SqlitePool, Transaction};

use super::SqliteStore;
use crate::acls::{self, AclBinding, AclBindingFilter, AclRow, ResourceType, to_row};
use crate::{MetadataError, Result};

const VERSION: &str = include_str!("../../queries/sqlite/acl_version.sql");
const BUMP: &str = include_str!("../../queries/sqlite/acl_version_bump.sql");
const ALL: &str = include_str!("../../queries/sqlite/acls_all.sql");
const OF_TYPE: &str = include_str!("../../queries/sqlite/acls_of_type.sql");
const INSERT: &str = include_str!("../../queries/sqlite/acl_insert.sql");
const DELETE: &str = include_str!("../../queries/sqlite/acl_delete.sql");

/// The ACL version.
pub(super) async fn version(pool: &SqlitePool) -> Result<i64> {
    let version: i64 = sqlx::query_scalar(VERSION)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| MetadataError::Corrupt("acl_version has no row".into()))?;
    Ok(version)
}

/// Reads the bindings of `resource_type` (all of them for `None`) inside `tx`.
async fn read(
    tx: &mut Transaction<'_, Sqlite>,
    resource_type: Option<ResourceType>,
) -> Result<Vec<AclBinding>> {
    let rows: Vec<AclRow> = match resource_type {
        Some(t) => {
            sqlx::query_as(OF_TYPE)
                .bind(i16::from(t.code()))
                .fetch_all(&mut **tx)
                .await?
        }
        None => sqlx::query_as(ALL).fetch_all(&mut **tx).await?,
    };
    rows.into_iter().map(acls::from_row).collect()
}

/// Every binding and the version they are at, read in one transaction.
pub(super) async fn all(pool: &SqlitePool) -> Result<(i64, Vec<AclBinding>)> {
    let mut tx = pool.begin().await?;
    let version: i64 = sqlx::query_scalar(VERSION).fetch_one(&mut *tx).await?;
    let acls = read(&mut tx, None).await?;
    tx.commit().await?;
    Ok((version, acls))
}

/// The bindings `filter` matches.
pub(super) async fn describe(
    pool: &SqlitePool,
    filter: &AclBindingFilter,
) -> Result<Vec<AclBinding>> {
    let mut tx = pool.begin().await?;
    let rows = read(&mut tx, acls::type_to_read(std::slice::from_ref(filter))).await?;
    tx.commit().await?;
    Ok(rows.into_iter().filter(|acl| filter.matches(acl)).collect())
}

/// Adds every binding in one transaction; moves the version if any was new.
pub(super) async fn create(store: &SqliteStore, bindings: &[AclBinding]) -> Result<()> {
    acls::validate_all(bindings)?;
    let mut write = store.begin_write().await?;
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
            .execute(&mut *write.tx)
            .await?
            .rows_affected();
    }
    if added == 0 {
        return Ok(());
    }
    sqlx::query_scalar::<_, i64>(BUMP)
        .fetch_one(&mut *write.tx)
        .await?;
    write.commit().await?;
    tracing::info!(added, "created ACLs");
    Ok(())
}

/// Deletes, in one transaction, every binding some filter matches;
/// answers per filter what it matched.
pub(super) async fn delete(
    store: &SqliteStore,
    filters: &[AclBindingFilter],
) -> Result<Vec<Vec<AclBinding>>> {
    let mut write = store.begin_write().await?;
    let rows = read(&mut write.tx, acls::type_to_read(filters)).await?;
    let (per_filter, doomed) = acls::matches_per_filter(&rows, filters);
    if doomed.is_empty() {
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
            .execute(&mut *write.tx)
            .await?;
    }
    sqlx::query_scalar::<_, i64>(BUMP)
        .fetch_one(&mut *write.tx)
        .await?;
    write.commit().await?;
    tracing::info!(deleted = doomed.len(), "deleted ACLs");
    Ok(per_filter)
}
