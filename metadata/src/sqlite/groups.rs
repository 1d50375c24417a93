//! Consumer groups: the states their coordinators store with
//! compare-and-set on the generation, and committed offsets. Every write
//! is one transaction under the writer lock, so the check of a generation
//! and the write it guards cannot be separated by another writer.

use std::collections::BTreeSet;

use sqlx::SqlitePool;

use super::SqliteStore;
use super::params::partitions_json;
use crate::convert::stored_uuid;
use crate::groups::{self, StoredGroup, stored_i32};
use crate::{
    CommittedOffset, GroupListing, GroupMember, GroupState, MetadataError, PartitionLag, Result,
    TopicId,
};

const GROUP_LOAD: &str = include_str!("../../queries/sqlite/group_load.sql");
const GROUP_INSERT: &str = include_str!("../../queries/sqlite/group_insert.sql");
const GROUP_UPDATE: &str = include_str!("../../queries/sqlite/group_update.sql");
const GROUP_MEMBERS_CLEAR: &str = include_str!("../../queries/sqlite/group_members_clear.sql");
const GROUP_MEMBER_INSERT: &str = include_str!("../../queries/sqlite/group_member_insert.sql");
const GROUP_GENERATION: &str = include_str!("../../queries/sqlite/group_generation.sql");
const GROUP_CLAIM: &str = include_str!("../../queries/sqlite/group_claim.sql");
const GROUP_EPOCH: &str = include_str!("../../queries/sqlite/group_epoch.sql");
const GROUP_STATE_DELETE: &str = include_str!("../../queries/sqlite/group_state_delete.sql");
const GROUP_OFFSETS_CLEAR: &str = include_str!("../../queries/sqlite/group_offsets_clear.sql");
const GROUP_OFFSET_UPSERT: &str = include_str!("../../queries/sqlite/group_offset_upsert.sql");
const GROUP_OFFSETS_ALL: &str = include_str!("../../queries/sqlite/group_offsets_all.sql");
const GROUP_LAG: &str = include_str!("../../queries/sqlite/group_lag.sql");
const GROUP_OFFSETS_OF: &str = include_str!("../../queries/sqlite/group_offsets_of.sql");
const GROUP_OFFSETS_DELETE: &str = include_str!("../../queries/sqlite/group_offsets_delete.sql");
const GROUPS_LIST: &str = include_str!("../../queries/sqlite/groups_list.sql");
const GROUPS_EXPIRE_STATES: &str = include_str!("../../queries/sqlite/groups_expire_states.sql");
const GROUPS_EXPIRE_OFFSETS: &str = include_str!("../../queries/sqlite/groups_expire_offsets.sql");

/// A group's stored state, if any.
pub(super) async fn load(pool: &SqlitePool, group_id: &str) -> Result<Option<GroupState>> {
    groups::group_id(group_id)?;
    let rows: Vec<GroupRow> = sqlx::query_as(GROUP_LOAD)
        .bind(group_id)
        .fetch_all(pool)
        .await?;
    groups::assemble(group_id, rows.into_iter().map(GroupRow::into_parts))
}

/// Stores a group's state if its stored generation is `expected` (`None`:
/// if it has no stored state), replacing its members, in one transaction.
/// Takes over a group; returns its new coordinator epoch.
pub(super) async fn claim(store: &SqliteStore, group_id: &str) -> Result<i64> {
    groups::group_id(group_id)?;
    let mut write = store.begin_write().await?;
    let epoch: i64 = sqlx::query_scalar(GROUP_CLAIM)
        .bind(group_id)
        .fetch_one(&mut *write.tx)
        .await?;
    write.commit().await?;
    Ok(epoch)
}

/// Whether `epoch` is the group's coordinator epoch, read in the write
/// transaction (SQLite runs one at a time, so it cannot change before the
/// write commits).
async fn holds_epoch(tx: &mut sqlx::SqliteConnection, group_id: &str, epoch: i64) -> Result<bool> {
    let stored: i64 = sqlx::query_scalar(GROUP_EPOCH)
        .bind(group_id)
        .fetch_one(tx)
        .await?;
    if stored != epoch {
        tracing::debug!(
            group = group_id,
            epoch,
            stored,
            "group write fenced by a newer coordinator"
        );
    }
    Ok(stored == epoch)
}

pub(super) async fn store(
    store: &SqliteStore,
    state: &GroupState,
    expected: Option<i32>,
    coordinator_epoch: i64,
) -> Result<bool> {
    groups::state(state)?;
    let mut write = store.begin_write().await?;
    if !holds_epoch(&mut write.tx, &state.group_id, coordinator_epoch).await? {
        return Ok(false);
    }
    let query = sqlx::query(match expected {
        None => GROUP_INSERT,
        Some(_) => GROUP_UPDATE,
    })
    .bind(&state.group_id)
    .bind(state.generation)
    .bind(&state.protocol_type)
    .bind(&state.protocol)
    .bind(&state.leader);
    let query = match expected {
        None => query,
        Some(expected) => query.bind(expected),
    };
    let written = query.execute(&mut *write.tx).await?.rows_affected();
    if written == 0 {
        tracing::debug!(group = %state.group_id, ?expected, "group state moved on, not stored");
        return Ok(false);
    }
    sqlx::query(GROUP_MEMBERS_CLEAR)
        .bind(&state.group_id)
        .execute(&mut *write.tx)
        .await?;
    for (index, member) in state.members.iter().enumerate() {
        sqlx::query(GROUP_MEMBER_INSERT)
            .bind(&state.group_id)
            .bind(groups::member_index(index)?)
            .bind(&member.member_id)
            .bind(&member.group_instance_id)
            .bind(&member.client_id)
            .bind(&member.client_host)
            .bind(member.session_timeout_ms)
            .bind(member.rebalance_timeout_ms)
            .bind(&member.metadata)
            .bind(&member.assignment)
            .execute(&mut *write.tx)
            .await?;
    }
    write.commit().await?;
    tracing::debug!(
        group = %state.group_id,
        generation = state.generation,
        members = state.members.len(),
        "stored group state"
    );
    Ok(true)
}

/// Deletes a group's state and offsets; `false` if it had neither.
pub(super) async fn delete(store: &SqliteStore, group_id: &str) -> Result<bool> {
    groups::group_id(group_id)?;
    let mut write = store.begin_write().await?;
    let mut deleted = 0;
    for statement in [GROUP_STATE_DELETE, GROUP_OFFSETS_CLEAR] {
        deleted += sqlx::query(statement)
            .bind(group_id)
            .execute(&mut *write.tx)
            .await?
            .rows_affected();
    }
    write.commit().await?;
    tracing::info!(group = group_id, found = deleted > 0, "deleted group");
    Ok(deleted > 0)
}

/// Every group with a stored state or committed offsets, by group id.
pub(super) async fn list(pool: &SqlitePool) -> Result<Vec<GroupListing>> {
    let rows: Vec<ListingRow> = sqlx::query_as(GROUPS_LIST).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|row| GroupListing {
            group_id: row.group_id,
            protocol_type: row.protocol_type,
            has_members: row.has_members,
        })
        .collect())
}

/// Commits offsets in one transaction, after checking the stored
/// generation if one is expected; skips topics that no longer exist.
pub(super) async fn commit_offsets(
    store: &SqliteStore,
    group_id: &str,
    expected: Option<i32>,
    offsets: &[CommittedOffset],
    coordinator_epoch: i64,
) -> Result<bool> {
    groups::group_id(group_id)?;
    let offsets = groups::offsets_to_commit(offsets)?;
    let mut write = store.begin_write().await?;
    if !holds_epoch(&mut write.tx, group_id, coordinator_epoch).await? {
        return Ok(false);
    }
    if let Some(expected) = expected {
        let stored: Option<i64> = sqlx::query_scalar(GROUP_GENERATION)
            .bind(group_id)
            .fetch_optional(&mut *write.tx)
            .await?;
        if stored != Some(i64::from(expected)) {
            tracing::debug!(group = group_id, expected, ?stored, "offset commit fenced");
            return Ok(false);
        }
    }
    let mut written = 0;
    for offset in &offsets {
        written += sqlx::query(GROUP_OFFSET_UPSERT)
            .bind(group_id)
            .bind(offset.topic_id)
            .bind(offset.partition)
            .bind(offset.offset)
            .bind(offset.leader_epoch)
            .bind(offset.metadata.as_ref().map(|m| m.as_bytes()))
            .bind(offset.commit_timestamp_ms)
            .execute(&mut *write.tx)
            .await?
            .rows_affected();
    }
    write.commit().await?;
    tracing::debug!(
        group = group_id,
        offsets = offsets.len(),
        written,
        "committed offsets"
    );
    Ok(true)
}

/// A group's offsets: all of them, or those of `partitions`.
pub(super) async fn fetch_offsets(
    pool: &SqlitePool,
    group_id: &str,
    partitions: Option<&[(TopicId, i32)]>,
) -> Result<Vec<CommittedOffset>> {
    groups::group_id(group_id)?;
    let query = match partitions {
        None => sqlx::query_as(GROUP_OFFSETS_ALL).bind(group_id),
        Some(partitions) => sqlx::query_as(GROUP_OFFSETS_OF)
            .bind(group_id)
            .bind(partitions_json(partitions)?),
    };
    let rows: Vec<OffsetRow> = query.fetch_all(pool).await?;
    rows.into_iter().map(OffsetRow::into_offset).collect()
}

/// A group's offsets with their partitions' high watermarks.
pub(super) async fn group_lag(pool: &SqlitePool, group_id: &str) -> Result<Vec<PartitionLag>> {
    groups::group_id(group_id)?;
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(GROUP_LAG)
        .bind(group_id)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(topic, partition, committed_offset, high_watermark)| {
            Ok(PartitionLag {
                topic,
                partition: stored_i32(partition, "partition")?,
                committed_offset,
                high_watermark,
            })
        })
        .collect()
}

/// Deletes a group's offsets of `partitions`.
pub(super) async fn delete_offsets(
    store: &SqliteStore,
    group_id: &str,
    partitions: &[(TopicId, i32)],
) -> Result<()> {
    groups::group_id(group_id)?;
    let partitions = partitions_json(partitions)?;
    let mut write = store.begin_write().await?;
    let deleted = sqlx::query(GROUP_OFFSETS_DELETE)
        .bind(group_id)
        .bind(partitions)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    write.commit().await?;
    tracing::debug!(group = group_id, offsets = deleted, "deleted offsets");
    Ok(())
}

/// Removes the groups without members whose newest commit is older than
/// `older_than_ms`, in one transaction; returns how many.
pub(super) async fn expire(store: &SqliteStore, older_than_ms: i64) -> Result<u64> {
    let mut write = store.begin_write().await?;
    let mut expired = BTreeSet::new();
    for statement in [GROUPS_EXPIRE_STATES, GROUPS_EXPIRE_OFFSETS] {
        let ids: Vec<String> = sqlx::query_scalar(statement)
            .bind(older_than_ms)
            .fetch_all(&mut *write.tx)
            .await?;
        expired.extend(ids);
    }
    write.commit().await?;
    if !expired.is_empty() {
        tracing::info!(groups = expired.len(), older_than_ms, "expired groups");
    }
    Ok(expired.len() as u64)
}

/// A row of `group_load.sql`: a state and one of its members, if it has any.
#[derive(Debug, sqlx::FromRow)]
struct GroupRow {
    generation: i64,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    member_index: Option<i64>,
    member_id: Option<String>,
    group_instance_id: Option<String>,
    client_id: Option<String>,
    client_host: Option<String>,
    session_timeout_ms: Option<i64>,
    rebalance_timeout_ms: Option<i64>,
    metadata: Option<Vec<u8>>,
    assignment: Option<Vec<u8>>,
}

impl GroupRow {
    /// The state's columns and the member, checked.
    fn into_parts(self) -> Result<(StoredGroup, Option<(i32, GroupMember)>)> {
        let group = StoredGroup {
            generation: stored_i32(self.generation, "group generation")?,
            protocol_type: self.protocol_type,
            protocol: self.protocol,
            leader: self.leader,
        };
        let Some(index) = self.member_index else {
            return Ok((group, None));
        };
        let (
            Some(member_id),
            Some(client_id),
            Some(client_host),
            Some(session_timeout_ms),
            Some(rebalance_timeout_ms),
            Some(metadata),
            Some(assignment),
        ) = (
            self.member_id,
            self.client_id,
            self.client_host,
            self.session_timeout_ms,
            self.rebalance_timeout_ms,
            self.metadata,
            self.assignment,
        )
        else {
            return Err(MetadataError::Corrupt(format!(
                "group member {index} has a NULL column"
            )));
        };
        let member = GroupMember {
            member_id,
            group_instance_id: self.group_instance_id,
            client_id,
            client_host,
            session_timeout_ms: stored_i32(session_timeout_ms, "session timeout")?,
            rebalance_timeout_ms: stored_i32(rebalance_timeout_ms, "rebalance timeout")?,
            metadata,
            assignment,
        };
        Ok((group, Some((stored_i32(index, "member index")?, member))))
    }
}

/// A row of `groups_list.sql`.
#[derive(Debug, sqlx::FromRow)]
struct ListingRow {
    group_id: String,
    protocol_type: Option<String>,
    has_members: bool,
}

/// A row of `group_offsets`.
#[derive(Debug, sqlx::FromRow)]
struct OffsetRow {
    topic_id: Vec<u8>,
    partition: i64,
    committed_offset: i64,
    leader_epoch: i64,
    metadata: Option<Vec<u8>>,
    commit_timestamp_ms: i64,
}

impl OffsetRow {
    /// The stored offset, checked.
    fn into_offset(self) -> Result<CommittedOffset> {
        Ok(CommittedOffset {
            topic_id: stored_uuid(&self.topic_id, "topic id")?,
            partition: stored_i32(self.partition, "partition")?,
            offset: self.committed_offset,
            leader_epoch: stored_i32(self.leader_epoch, "leader epoch")?,
            metadata: groups::stored_metadata(self.metadata)?,
            commit_timestamp_ms: self.commit_timestamp_ms,
        })
    }
}
