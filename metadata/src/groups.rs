//! Consumer groups, as both stores persist them: the checks made before
//! anything is written (so both implementations reject the same inputs),
//! and the assembly of a stored state from its rows.
//!
//! The SQL is in `sqlite/groups.rs` and `postgres/groups.rs`; the tables in
//! `migrations/sqlite/0003_groups.sql` and `migrations/postgres/0004_groups.sql`.

use std::collections::BTreeMap;

use crate::{CommittedOffset, GroupMember, GroupState, MetadataError, Result, TopicId};

/// Checks a string the stores keep as text. Postgres text cannot hold a NUL
/// character; SQLite could, but both stores must accept the same inputs.
pub(crate) fn text(value: &str, what: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(MetadataError::Invalid(format!(
            "{what} {value:?} contains a NUL character"
        )));
    }
    Ok(())
}

/// Checks a group id.
pub(crate) fn group_id(group_id: &str) -> Result<()> {
    text(group_id, "group id")
}

/// Checks a group state to store: a non-negative generation, and text
/// without NUL characters. Member metadata and assignments are bytes, any
/// bytes.
pub(crate) fn state(state: &GroupState) -> Result<()> {
    group_id(&state.group_id)?;
    if state.generation < 0 {
        return Err(MetadataError::Invalid(format!(
            "group {} has a negative generation {}",
            state.group_id, state.generation
        )));
    }
    let optional = [
        (&state.protocol_type, "protocol type"),
        (&state.protocol, "protocol"),
        (&state.leader, "leader"),
    ];
    for (value, what) in optional {
        if let Some(value) = value {
            text(value, what)?;
        }
    }
    for member in &state.members {
        text(&member.member_id, "member id")?;
        text(&member.client_id, "client id")?;
        text(&member.client_host, "client host")?;
        if let Some(instance) = &member.group_instance_id {
            text(instance, "group instance id")?;
        }
    }
    Ok(())
}

/// Checks offsets to commit and returns those to write: one per partition,
/// the last one given if a partition comes twice (as Kafka does), ordered by
/// topic id and partition, the order in which the Postgres store locks
/// their rows (so concurrent commits of one group cannot deadlock).
pub(crate) fn offsets_to_commit(offsets: &[CommittedOffset]) -> Result<Vec<&CommittedOffset>> {
    let mut latest: BTreeMap<(TopicId, i32), &CommittedOffset> = BTreeMap::new();
    for offset in offsets {
        if offset.partition < 0 {
            return Err(MetadataError::Invalid(format!(
                "cannot commit an offset for partition {} of topic {}",
                offset.partition, offset.topic_id
            )));
        }
        latest.insert((offset.topic_id, offset.partition), offset);
    }
    Ok(latest.into_values().collect())
}

/// A stored integer that must fit an `i32` (SQLite stores 64-bit integers).
pub(crate) fn stored_i32(value: i64, what: &str) -> Result<i32> {
    i32::try_from(value).map_err(|_| MetadataError::Corrupt(format!("{what} {value} out of range")))
}

/// The columns of a group's stored state, without its members.
#[derive(Debug)]
pub(crate) struct StoredGroup {
    pub(crate) generation: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol: Option<String>,
    pub(crate) leader: Option<String>,
}

/// Assembles a group's state from the rows of its state joined with its
/// members (one row per member, or one row with no member for a group
/// without members), ordered by member index. `None` if there is no row.
pub(crate) fn assemble(
    group_id: &str,
    rows: impl IntoIterator<Item = Result<(StoredGroup, Option<(i32, GroupMember)>)>>,
) -> Result<Option<GroupState>> {
    let mut state: Option<GroupState> = None;
    for row in rows {
        let (group, member) = row?;
        let state = state.get_or_insert_with(|| GroupState {
            group_id: group_id.to_string(),
            generation: group.generation,
            protocol_type: group.protocol_type,
            protocol: group.protocol,
            leader: group.leader,
            members: Vec::new(),
        });
        if let Some((index, member)) = member {
            if usize::try_from(index).ok() != Some(state.members.len()) {
                return Err(MetadataError::Corrupt(format!(
                    "group {group_id}: member {} stored at index {index}, expected {}",
                    member.member_id,
                    state.members.len()
                )));
            }
            state.members.push(member);
        }
    }
    Ok(state)
}

/// A member's index in its group as stored.
pub(crate) fn member_index(index: usize) -> Result<i32> {
    i32::try_from(index)
        .map_err(|_| MetadataError::Invalid(format!("a group cannot have {index} members")))
}

/// Offset metadata as stored: the client's string as UTF-8 bytes, kept as
/// bytes because Kafka allows any string, NUL characters included (which a
/// Postgres `text` cannot hold; librdkafka even appends one).
pub(crate) fn stored_metadata(bytes: Option<Vec<u8>>) -> Result<Option<String>> {
    bytes
        .map(|b| {
            String::from_utf8(b)
                .map_err(|_| MetadataError::Corrupt("offset metadata is not UTF-8".into()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(topic_id: TopicId, partition: i32, offset: i64) -> CommittedOffset {
        CommittedOffset {
            topic_id,
            partition,
            offset,
            leader_epoch: -1,
            metadata: None,
            commit_timestamp_ms: 0,
        }
    }

    #[test]
    fn the_last_offset_of_a_partition_wins_in_order() {
        let a = TopicId::from_u128(1);
        let b = TopicId::from_u128(2);
        let offsets = [
            offset(b, 0, 1),
            offset(a, 1, 2),
            offset(b, 0, 3),
            offset(a, 0, 4),
        ];
        let kept: Vec<_> = offsets_to_commit(&offsets)
            .map(|kept| {
                kept.iter()
                    .map(|o| (o.topic_id, o.partition, o.offset))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(kept, vec![(a, 0, 4), (a, 1, 2), (b, 0, 3)]);
    }

    #[test]
    fn offset_metadata_may_hold_nul_but_partitions_must_not_be_negative() {
        let mut with_nul = offset(TopicId::from_u128(1), 0, 0);
        with_nul.metadata = Some("a\0b".into());
        assert_eq!(
            offsets_to_commit(&[with_nul]).map(|o| o.len()).ok(),
            Some(1)
        );
        assert!(matches!(
            offsets_to_commit(&[offset(TopicId::from_u128(1), -1, 0)]),
            Err(MetadataError::Invalid(_))
        ));
        assert!(matches!(group_id("g\0"), Err(MetadataError::Invalid(_))));
    }
}
