//! Consumer groups: the states their coordinators store with
//! compare-and-set on the generation, fenced by the coordinator epoch, and
//! committed offsets. Every method
//! is one statement, so one round trip and one transaction; lists go to
//! the database as parallel arrays.

use sqlx::PgPool;

use crate::groups::{self, StoredGroup};
use crate::{
    CommittedOffset, GroupListing, GroupMember, GroupState, MetadataError, PartitionLag, Result,
    TopicId,
};

const GROUP_LOAD: &str = include_str!("../../queries/postgres/group_load.sql");
const GROUP_INSERT: &str = include_str!("../../queries/postgres/group_insert.sql");
const GROUP_UPDATE: &str = include_str!("../../queries/postgres/group_update.sql");
const GROUP_DELETE: &str = include_str!("../../queries/postgres/group_delete.sql");
const GROUPS_LIST: &str = include_str!("../../queries/postgres/groups_list.sql");
const GROUP_OFFSETS_COMMIT: &str = include_str!("../../queries/postgres/group_offsets_commit.sql");
const GROUP_OFFSETS_ALL: &str = include_str!("../../queries/postgres/group_offsets_all.sql");
const GROUP_LAG: &str = include_str!("../../queries/postgres/group_lag.sql");
const GROUP_OFFSETS_OF: &str = include_str!("../../queries/postgres/group_offsets_of.sql");
const GROUP_OFFSETS_DELETE: &str = include_str!("../../queries/postgres/group_offsets_delete.sql");
const GROUPS_EXPIRE: &str = include_str!("../../queries/postgres/groups_expire.sql");
const GROUP_CLAIM: &str = include_str!("../../queries/postgres/group_claim.sql");

/// Takes over a group; returns its new coordinator epoch.
pub(super) async fn claim(pool: &PgPool, group_id: &str) -> Result<i64> {
    groups::group_id(group_id)?;
    Ok(sqlx::query_scalar(GROUP_CLAIM)
        .bind(group_id)
        .fetch_one(pool)
        .await?)
}

/// A group's stored state, if any.
pub(super) async fn load(pool: &PgPool, group_id: &str) -> Result<Option<GroupState>> {
    groups::group_id(group_id)?;
    let rows: Vec<GroupRow> = sqlx::query_as(GROUP_LOAD)
        .bind(group_id)
        .fetch_all(pool)
        .await?;
    groups::assemble(group_id, rows.into_iter().map(GroupRow::into_parts))
}

/// Stores a group's state if its stored generation is `expected` (`None`:
/// if it has no stored state), with its members, in one statement.
pub(super) async fn store(
    pool: &PgPool,
    state: &GroupState,
    expected: Option<i32>,
    coordinator_epoch: i64,
) -> Result<bool> {
    groups::state(state)?;
    groups::member_index(state.members.len())?;
    let members = &state.members;
    let query = sqlx::query_scalar(match expected {
        None => GROUP_INSERT,
        Some(_) => GROUP_UPDATE,
    })
    .bind(&state.group_id)
    .bind(state.generation)
    .bind(&state.protocol_type)
    .bind(&state.protocol)
    .bind(&state.leader)
    .bind(column(members, |m| m.member_id.as_str()))
    .bind(column(members, |m| m.group_instance_id.as_deref()))
    .bind(column(members, |m| m.client_id.as_str()))
    .bind(column(members, |m| m.client_host.as_str()))
    .bind(column(members, |m| m.session_timeout_ms))
    .bind(column(members, |m| m.rebalance_timeout_ms))
    .bind(column(members, |m| m.metadata.as_slice()))
    .bind(column(members, |m| m.assignment.as_slice()));
    let query = match expected {
        None => query,
        Some(expected) => query.bind(expected),
    };
    let written: i64 = query.bind(coordinator_epoch).fetch_one(pool).await?;
    if written == 0 {
        tracing::debug!(group = %state.group_id, ?expected, "group state moved on, not stored");
        return Ok(false);
    }
    tracing::debug!(
        group = %state.group_id,
        generation = state.generation,
        members = state.members.len(),
        "stored group state"
    );
    Ok(true)
}

/// Deletes a group's state and offsets; `false` if it had neither.
pub(super) async fn delete(pool: &PgPool, group_id: &str) -> Result<bool> {
    groups::group_id(group_id)?;
    let found: bool = sqlx::query_scalar(GROUP_DELETE)
        .bind(group_id)
        .fetch_one(pool)
        .await?;
    tracing::info!(group = group_id, found, "deleted group");
    Ok(found)
}

/// Every group with a stored state or committed offsets, by group id.
pub(super) async fn list(pool: &PgPool) -> Result<Vec<GroupListing>> {
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

/// Commits offsets in one statement, after checking the stored generation
/// if one is expected; skips topics that no longer exist.
pub(super) async fn commit_offsets(
    pool: &PgPool,
    group_id: &str,
    expected: Option<i32>,
    offsets: &[CommittedOffset],
    coordinator_epoch: i64,
) -> Result<bool> {
    groups::group_id(group_id)?;
    let offsets = groups::offsets_to_commit(offsets)?;
    let committed: bool = sqlx::query_scalar(GROUP_OFFSETS_COMMIT)
        .bind(group_id)
        .bind(expected)
        .bind(column(&offsets, |o| o.topic_id))
        .bind(column(&offsets, |o| o.partition))
        .bind(column(&offsets, |o| o.offset))
        .bind(column(&offsets, |o| o.leader_epoch))
        .bind(column(&offsets, |o| {
            o.metadata.as_ref().map(|m| m.as_bytes().to_vec())
        }))
        .bind(column(&offsets, |o| o.commit_timestamp_ms))
        .bind(coordinator_epoch)
        .fetch_one(pool)
        .await?;
    if committed {
        tracing::debug!(
            group = group_id,
            offsets = offsets.len(),
            "committed offsets"
        );
    } else {
        tracing::debug!(group = group_id, ?expected, "offset commit fenced");
    }
    Ok(committed)
}

/// A group's offsets: all of them, or those of `partitions`.
pub(super) async fn fetch_offsets(
    pool: &PgPool,
    group_id: &str,
    partitions: Option<&[(TopicId, i32)]>,
) -> Result<Vec<CommittedOffset>> {
    groups::group_id(group_id)?;
    let query = match partitions {
        None => sqlx::query_as(GROUP_OFFSETS_ALL).bind(group_id),
        Some(partitions) => sqlx::query_as(GROUP_OFFSETS_OF)
            .bind(group_id)
            .bind(column(partitions, |(topic, _)| *topic))
            .bind(column(partitions, |(_, partition)| *partition)),
    };
    let rows: Vec<OffsetRow> = query.fetch_all(pool).await?;
    rows.into_iter().map(OffsetRow::into_offset).collect()
}

/// A group's offsets with their partitions' high watermarks.
pub(super) async fn group_lag(pool: &PgPool, group_id: &str) -> Result<Vec<PartitionLag>> {
    groups::group_id(group_id)?;
    let rows: Vec<(String, i32, i64, i64)> = sqlx::query_as(GROUP_LAG)
        .bind(group_id)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(topic, partition, committed_offset, high_watermark)| PartitionLag {
                topic,
                partition,
                committed_offset,
                high_watermark,
            },
        )
        .collect())
}

/// Deletes a group's offsets of `partitions`.
pub(super) async fn delete_offsets(
    pool: &PgPool,
    group_id: &str,
    partitions: &[(TopicId, i32)],
) -> Result<()> {
    groups::group_id(group_id)?;
    let deleted = sqlx::query(GROUP_OFFSETS_DELETE)
        .bind(group_id)
        .bind(column(partitions, |(topic, _)| *topic))
        .bind(column(partitions, |(_, partition)| *partition))
        .execute(pool)
        .await?
        .rows_affected();
    tracing::debug!(group = group_id, offsets = deleted, "deleted offsets");
    Ok(())
}

/// Removes the groups without members whose newest commit is older than
/// `older_than_ms`, in one statement; returns how many.
pub(super) async fn expire(pool: &PgPool, older_than_ms: i64) -> Result<u64> {
    let expired: i64 = sqlx::query_scalar(GROUPS_EXPIRE)
        .bind(older_than_ms)
        .fetch_one(pool)
        .await?;
    let expired = u64::try_from(expired)
        .map_err(|_| MetadataError::Corrupt(format!("expired {expired} groups")))?;
    if expired > 0 {
        tracing::info!(groups = expired, older_than_ms, "expired groups");
    }
    Ok(expired)
}

/// One field of every item, as an array parameter.
fn column<'a, T, U>(items: &'a [T], field: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(field).collect()
}

/// A row of `group_load.sql`: a state and one of its members, if it has any.
#[derive(Debug, sqlx::FromRow)]
struct GroupRow {
    generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    member_index: Option<i32>,
    member_id: Option<String>,
    group_instance_id: Option<String>,
    client_id: Option<String>,
    client_host: Option<String>,
    session_timeout_ms: Option<i32>,
    rebalance_timeout_ms: Option<i32>,
    metadata: Option<Vec<u8>>,
    assignment: Option<Vec<u8>>,
}

impl GroupRow {
    /// The state's columns and the member, checked.
    fn into_parts(self) -> Result<(StoredGroup, Option<(i32, GroupMember)>)> {
        let group = StoredGroup {
            generation: self.generation,
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
            session_timeout_ms,
            rebalance_timeout_ms,
            metadata,
            assignment,
        };
        Ok((group, Some((index, member))))
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
    topic_id: TopicId,
    partition: i32,
    committed_offset: i64,
    leader_epoch: i32,
    metadata: Option<Vec<u8>>,
    commit_timestamp_ms: i64,
}

impl OffsetRow {
    /// The stored offset.
    fn into_offset(self) -> Result<CommittedOffset> {
        Ok(CommittedOffset {
            topic_id: self.topic_id,
            partition: self.partition,
            offset: self.committed_offset,
            leader_epoch: self.leader_epoch,
            metadata: groups::stored_metadata(self.metadata)?,
            commit_timestamp_ms: self.commit_timestamp_ms,
        })
    }
}
