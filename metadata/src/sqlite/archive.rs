//! The archive tier's records: an archive pass committed in one
//! transaction (its files, its snapshot, and with dropped segments the
//! index rows swapped to the Parquet row groups), and its reads.

use sqlx::{SqliteConnection, SqlitePool};

use super::SqliteStore;
use crate::{
    ArchiveCommit, ArchiveManifest, ArchiveOutcome, ArchivedFile, JobFence, MetadataError, Result,
    TopicId,
};

const TOPIC_LOCK: &str = include_str!("../../queries/sqlite/archive_topic_lock.sql");
const PARTITION_LOCK: &str = include_str!("../../queries/sqlite/archive_partition_lock.sql");
const RANGE_ROWS: &str = include_str!("../../queries/sqlite/archive_range_rows.sql");
const RANGE_CANDIDATES: &str = include_str!("../../queries/sqlite/archive_range_candidates.sql");
const RANGE_DELETE: &str = include_str!("../../queries/sqlite/archive_range_delete.sql");
const SEGMENT_INSERT: &str = include_str!("../../queries/sqlite/archive_segment_insert.sql");
const ROW_INSERT: &str = include_str!("../../queries/sqlite/archive_index_row_insert.sql");
const NEXT_SEQUENCE: &str = include_str!("../../queries/sqlite/archive_next_sequence.sql");
const MANIFEST_INSERT: &str = include_str!("../../queries/sqlite/archive_manifest_insert.sql");
const FILE_INSERT: &str = include_str!("../../queries/sqlite/archive_file_insert.sql");
const MANIFESTS: &str = include_str!("../../queries/sqlite/archive_manifests.sql");
const PROGRESS: &str = include_str!("../../queries/sqlite/archive_progress.sql");

fn signed(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| MetadataError::Invalid(format!("{what} {value} too large")))
}

/// See [`crate::MetadataStore::commit_archive`].
pub(super) async fn commit(
    store: &SqliteStore,
    commit: &ArchiveCommit,
    fence: &JobFence,
) -> Result<ArchiveOutcome> {
    let mut write = store.begin_write().await?;
    let tx = &mut write.tx;
    super::leases::check_fence(tx, fence).await?;
    let topic = commit.topic_id;
    let exists: Option<i32> = sqlx::query_scalar(TOPIC_LOCK)
        .bind(topic)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_none() {
        return Ok(ArchiveOutcome::UnknownTopic);
    }
    let progress = progress_in(tx, topic).await?;
    let sequence: i64 = sqlx::query_scalar(NEXT_SEQUENCE)
        .bind(topic)
        .fetch_one(&mut **tx)
        .await?;
    for file in &commit.files {
        let archived_to = progress
            .iter()
            .find(|(p, _)| *p == file.partition)
            .map(|(_, next)| *next);
        if archived_to.is_some_and(|next| file.base_offset < next) {
            return Ok(ArchiveOutcome::Conflict {
                partition: file.partition,
            });
        }
        if commit.drop_segments && !swap_rows(tx, topic, file).await? {
            return Ok(ArchiveOutcome::Conflict {
                partition: file.partition,
            });
        }
        sqlx::query(FILE_INSERT)
            .bind(topic)
            .bind(file.partition)
            .bind(file.base_offset)
            .bind(file.last_offset)
            .bind(file.file_id)
            .bind(&file.object_key)
            .bind(signed(file.size, "file size")?)
            .bind(signed(file.records, "record count")?)
            .bind(sequence)
            .execute(&mut **tx)
            .await?;
    }
    let added_rows: u64 = commit.files.iter().map(|f| f.records).sum();
    sqlx::query(MANIFEST_INSERT)
        .bind(topic)
        .bind(sequence)
        .bind(commit.snapshot_id)
        .bind(&commit.manifest_key)
        .bind(signed(commit.manifest_length, "manifest length")?)
        .bind(signed(commit.files.len() as u64, "file count")?)
        .bind(signed(added_rows, "record count")?)
        .bind(commit.committed_ms)
        .execute(&mut **tx)
        .await?;
    write.commit().await?;
    Ok(ArchiveOutcome::Committed {
        sequence_number: sequence,
    })
}

/// Replaces the index rows of `file`'s range by one per row group, if
/// they cover it exactly and the log start is not past its start.
async fn swap_rows(
    conn: &mut SqliteConnection,
    topic: TopicId,
    file: &ArchivedFile,
) -> Result<bool> {
    let (first, last) = (file.base_offset, file.last_offset);
    let Some(log_start): Option<i64> = sqlx::query_scalar(PARTITION_LOCK)
        .bind(topic)
        .bind(file.partition)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(false);
    };
    let (min, max, covered): (i64, i64, i64) = sqlx::query_as(RANGE_ROWS)
        .bind(topic)
        .bind(file.partition)
        .bind(first)
        .bind(last)
        .fetch_one(&mut *conn)
        .await?;
    if log_start > first || min != first || max != last || covered != last - first + 1 {
        return Ok(false);
    }
    for statement in [RANGE_CANDIDATES, RANGE_DELETE] {
        sqlx::query(statement)
            .bind(topic)
            .bind(file.partition)
            .bind(first)
            .bind(last)
            .execute(&mut *conn)
            .await?;
    }
    // The range's abort markers are not archived (the table holds committed
    // records only): an aborted range whose marker is gone would make a
    // read_committed consumer skip its producer's later committed batches
    // while waiting for that marker, so it goes with the rows.
    sqlx::query(crate::transactions::ops::ABORTED_BELOW)
        .bind(topic)
        .bind(file.partition)
        .bind(last.saturating_add(1))
        .execute(&mut *conn)
        .await?;
    sqlx::query(SEGMENT_INSERT)
        .bind(file.file_id)
        .bind(&file.object_key)
        .bind(signed(file.size, "file size")?)
        .execute(&mut *conn)
        .await?;
    for group in &file.row_groups {
        sqlx::query(ROW_INSERT)
            .bind(topic)
            .bind(file.partition)
            .bind(group.base_offset)
            .bind(group.last_offset)
            .bind(file.file_id)
            .bind(signed(group.byte_offset, "row group offset")?)
            .bind(signed(group.byte_len, "row group length")?)
            .bind(group.max_timestamp)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

async fn progress_in(conn: &mut SqliteConnection, topic: TopicId) -> Result<Vec<(i32, i64)>> {
    Ok(sqlx::query_as(PROGRESS)
        .bind(topic)
        .fetch_all(&mut *conn)
        .await?)
}

/// See [`crate::MetadataStore::archive_progress`].
pub(super) async fn progress(pool: &SqlitePool, topic: TopicId) -> Result<Vec<(i32, i64)>> {
    let mut conn = pool.acquire().await?;
    progress_in(&mut conn, topic).await
}

/// See [`crate::MetadataStore::archive_manifests`].
pub(super) async fn manifests(pool: &SqlitePool, topic: TopicId) -> Result<Vec<ArchiveManifest>> {
    let rows: Vec<(i64, i64, String, i64, i64, i64, i64)> = sqlx::query_as(MANIFESTS)
        .bind(topic)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(crate::archive::manifest_from_row)
        .collect()
}
