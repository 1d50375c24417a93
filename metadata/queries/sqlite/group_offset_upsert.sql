-- Commits one offset of a group, unless its topic no longer exists (0 rows
-- affected then).
-- ?1 group id, ?2 topic id, ?3 partition, ?4 offset, ?5 leader epoch,
-- ?6 metadata (NULL: none), ?7 commit timestamp in ms
INSERT INTO group_offsets (
    group_id, topic_id, partition, committed_offset, leader_epoch, metadata,
    commit_timestamp_ms
)
-- The WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
SELECT ?1, t.id, ?3, ?4, ?5, ?6, ?7 FROM topics AS t WHERE t.id = ?2
ON CONFLICT (group_id, topic_id, partition) DO UPDATE SET
    committed_offset = excluded.committed_offset,
    leader_epoch = excluded.leader_epoch,
    metadata = excluded.metadata,
    commit_timestamp_ms = excluded.commit_timestamp_ms
