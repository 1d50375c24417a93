-- Deletes the stored states of the groups without members that have no
-- offset committed at or after ?1 (ms since the epoch); returns their ids.
-- Run before groups_expire_offsets.sql, whose deletions it looks at.
DELETE FROM group_states AS s
WHERE NOT EXISTS (SELECT 1 FROM group_members AS m WHERE m.group_id = s.group_id)
    AND NOT EXISTS (
        SELECT 1 FROM group_offsets AS o
        WHERE o.group_id = s.group_id AND o.commit_timestamp_ms >= ?1
    )
RETURNING group_id
