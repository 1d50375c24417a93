//! The transaction coordinator's state on Postgres: the shared operations
//! of `transactions/ops.rs`, each write in one transaction that first locks
//! the transactional id's row, so concurrent coordinators (an agent that
//! took over, and one that still believes it coordinates) change it one
//! after the other and the compare-and-set decides.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{TxnInit, TxnRefusal as Refusal};

const PRODUCER_ID_ALLOCATE: &str = include_str!("../../queries/postgres/producer_id_allocate.sql");
const LOCK: &str = include_str!("../../queries/postgres/transactional_id_lock.sql");

/// A fresh producer id from the sequence.
async fn allocate(conn: &mut PgConnection) -> Result<i64> {
    Ok(sqlx::query_scalar(PRODUCER_ID_ALLOCATE)
        .fetch_one(&mut *conn)
        .await?)
}

crate::transactions::ops::txn_ops!(PgConnection, allocate);

/// Begins a transaction holding the row lock of `id` (if it has a row).
async fn begin_locked(pool: &PgPool, id: &str) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK).bind(id).execute(&mut *tx).await?;
    Ok(tx)
}

/// See [`crate::MetadataStore::init_transaction`].
pub(super) async fn init_transaction(
    pool: &PgPool,
    id: &str,
    timeout_ms: i32,
    now_ms: i64,
) -> Result<TxnInit> {
    let mut tx = begin_locked(pool, id).await?;
    let answer = init(&mut tx, id, timeout_ms, now_ms).await?;
    tx.commit().await?;
    Ok(answer)
}

/// See [`crate::MetadataStore::add_to_transaction`].
pub(super) async fn add_to_transaction(
    pool: &PgPool,
    id: &str,
    producer_id: i64,
    epoch: i16,
    partitions: &[(TopicId, i32)],
    groups: &[String],
    now_ms: i64,
) -> Result<std::result::Result<bool, Refusal>> {
    let mut tx = begin_locked(pool, id).await?;
    let answer = add(&mut tx, id, producer_id, epoch, partitions, groups, now_ms).await?;
    if answer.is_ok() {
        tx.commit().await?;
    }
    Ok(answer)
}

/// See [`crate::MetadataStore::txn_commit_offsets`].
pub(super) async fn txn_commit_offsets(
    pool: &PgPool,
    id: &str,
    producer_id: i64,
    epoch: i16,
    group_id: &str,
    offsets: &[CommittedOffset],
) -> Result<std::result::Result<(), Refusal>> {
    let mut tx = begin_locked(pool, id).await?;
    let answer = commit_offsets(&mut tx, id, producer_id, epoch, group_id, offsets).await?;
    if answer.is_ok() {
        tx.commit().await?;
    }
    Ok(answer)
}

/// See [`crate::MetadataStore::prepare_transaction`].
pub(super) async fn prepare_transaction(
    pool: &PgPool,
    id: &str,
    expected: TxnVersion,
    commit: bool,
    epoch: i16,
    now_ms: i64,
) -> Result<Option<TxnRecord>> {
    if expected.state != TxnState::Ongoing {
        return Ok(None);
    }
    let state = if commit {
        TxnState::PrepareCommit
    } else {
        TxnState::PrepareAbort
    };
    let mut tx = begin_locked(pool, id).await?;
    if !transition(&mut tx, id, expected, state, epoch, now_ms).await? {
        return Ok(None);
    }
    let record = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(record)
}

/// See [`crate::MetadataStore::complete_transaction`].
pub(super) async fn complete_transaction(
    pool: &PgPool,
    id: &str,
    expected: TxnVersion,
    now_ms: i64,
) -> Result<bool> {
    let mut tx = begin_locked(pool, id).await?;
    let done = complete(&mut tx, id, expected, now_ms).await?;
    if done {
        tx.commit().await?;
    }
    Ok(done)
}

/// See [`crate::MetadataStore::expire_transactional_ids`].
pub(super) async fn expire_transactional_ids(
    pool: &PgPool,
    older_than_ms: i64,
    limit: u32,
) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let expired = expire(&mut tx, older_than_ms, limit).await?;
    tx.commit().await?;
    Ok(expired)
}

/// See [`crate::MetadataStore::transaction`].
pub(super) async fn transaction(pool: &PgPool, id: &str) -> Result<Option<TxnRecord>> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await
}

/// See [`crate::MetadataStore::list_transactions`].
pub(super) async fn list_transactions(
    pool: &PgPool,
    after: &str,
    limit: u32,
) -> Result<Vec<TxnRecord>> {
    let mut conn = pool.acquire().await?;
    list(&mut conn, after, limit).await
}

/// See [`crate::MetadataStore::aborted_transactions`].
pub(super) async fn aborted_transactions(
    pool: &PgPool,
    topic: TopicId,
    partition: i32,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Vec<AbortedTxn>> {
    let mut conn = pool.acquire().await?;
    aborted(&mut conn, topic, partition, from, to, limit).await
}

/// See [`crate::MetadataStore::open_transactions`].
pub(super) async fn open_transactions(
    pool: &PgPool,
    topic: TopicId,
    partition: i32,
) -> Result<Vec<OpenTxn>> {
    let mut conn = pool.acquire().await?;
    open(&mut conn, topic, partition).await
}

/// See [`crate::MetadataStore::pending_txn_offsets`].
pub(super) async fn pending_txn_offsets(
    pool: &PgPool,
    group_id: &str,
) -> Result<Vec<(TopicId, i32)>> {
    let mut conn = pool.acquire().await?;
    pending(&mut conn, group_id).await
}
