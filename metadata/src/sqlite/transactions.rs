//! The transaction coordinator's state on SQLite: the shared operations
//! of `transactions/ops.rs`, each write in one immediate transaction.

use sqlx::SqliteConnection;

use super::SqliteStore;
use super::producers::allocate;
use crate::{TxnInit, TxnRefusal as Refusal};

crate::transactions::ops::txn_ops!(SqliteConnection, allocate);

/// See [`crate::MetadataStore::init_transaction`].
pub(super) async fn init_transaction(
    store: &SqliteStore,
    id: &str,
    timeout_ms: i32,
    now_ms: i64,
) -> Result<TxnInit> {
    let mut write = store.begin_write().await?;
    let answer = init(&mut write.tx, id, timeout_ms, now_ms).await?;
    write.commit().await?;
    Ok(answer)
}

/// See [`crate::MetadataStore::add_to_transaction`].
pub(super) async fn add_to_transaction(
    store: &SqliteStore,
    id: &str,
    producer_id: i64,
    epoch: i16,
    partitions: &[(TopicId, i32)],
    groups: &[String],
    now_ms: i64,
) -> Result<std::result::Result<bool, Refusal>> {
    let mut write = store.begin_write().await?;
    let answer = add(
        &mut write.tx,
        id,
        producer_id,
        epoch,
        partitions,
        groups,
        now_ms,
    )
    .await?;
    if answer.is_ok() {
        write.commit().await?;
    }
    Ok(answer)
}

/// See [`crate::MetadataStore::txn_commit_offsets`].
pub(super) async fn txn_commit_offsets(
    store: &SqliteStore,
    id: &str,
    producer_id: i64,
    epoch: i16,
    group_id: &str,
    offsets: &[CommittedOffset],
) -> Result<std::result::Result<(), Refusal>> {
    let mut write = store.begin_write().await?;
    let answer = commit_offsets(&mut write.tx, id, producer_id, epoch, group_id, offsets).await?;
    if answer.is_ok() {
        write.commit().await?;
    }
    Ok(answer)
}

/// See [`crate::MetadataStore::prepare_transaction`].
pub(super) async fn prepare_transaction(
    store: &SqliteStore,
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
    let mut write = store.begin_write().await?;
    if !transition(&mut write.tx, id, expected, state, epoch, now_ms).await? {
        return Ok(None);
    }
    let record = load(&mut write.tx, id).await?;
    write.commit().await?;
    Ok(record)
}

/// See [`crate::MetadataStore::complete_transaction`].
pub(super) async fn complete_transaction(
    store: &SqliteStore,
    id: &str,
    expected: TxnVersion,
    now_ms: i64,
) -> Result<bool> {
    let mut write = store.begin_write().await?;
    let done = complete(&mut write.tx, id, expected, now_ms).await?;
    if done {
        write.commit().await?;
    }
    Ok(done)
}

/// See [`crate::MetadataStore::expire_transactional_ids`].
pub(super) async fn expire_transactional_ids(
    store: &SqliteStore,
    older_than_ms: i64,
    limit: u32,
) -> Result<u64> {
    let mut write = store.begin_write().await?;
    let expired = expire(&mut write.tx, older_than_ms, limit).await?;
    write.commit().await?;
    Ok(expired)
}

/// Reads on a pooled connection.
impl SqliteStore {
    pub(super) async fn txn_read(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        Ok(self.pool.acquire().await?)
    }
}

/// See [`crate::MetadataStore::transaction`].
pub(super) async fn transaction(store: &SqliteStore, id: &str) -> Result<Option<TxnRecord>> {
    let mut conn = store.txn_read().await?;
    load(&mut conn, id).await
}

/// See [`crate::MetadataStore::list_transactions`].
pub(super) async fn list_transactions(
    store: &SqliteStore,
    after: &str,
    limit: u32,
) -> Result<Vec<TxnRecord>> {
    let mut conn = store.txn_read().await?;
    list(&mut conn, after, limit).await
}

/// See [`crate::MetadataStore::aborted_transactions`].
pub(super) async fn aborted_transactions(
    store: &SqliteStore,
    topic: TopicId,
    partition: i32,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Vec<AbortedTxn>> {
    let mut conn = store.txn_read().await?;
    aborted(&mut conn, topic, partition, from, to, limit).await
}

/// See [`crate::MetadataStore::open_transactions`].
pub(super) async fn open_transactions(
    store: &SqliteStore,
    topic: TopicId,
    partition: i32,
) -> Result<Vec<OpenTxn>> {
    let mut conn = store.txn_read().await?;
    open(&mut conn, topic, partition).await
}

/// See [`crate::MetadataStore::pending_txn_offsets`].
pub(super) async fn pending_txn_offsets(
    store: &SqliteStore,
    group_id: &str,
) -> Result<Vec<(TopicId, i32)>> {
    let mut conn = store.txn_read().await?;
    pending(&mut conn, group_id).await
}
