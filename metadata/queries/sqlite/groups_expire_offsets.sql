-- Deletes the offsets of the groups without members (in a stored state)
-- that have no offset committed at or after ?1 (ms since the epoch);
-- returns their group id, once per deleted row.
DELETE FROM group_offsets AS o
WHERE NOT EXISTS (SELECT 1 FROM group_members AS m WHERE m.group_id = o.group_id)
    AND NOT EXISTS (
        SELECT 1 FROM group_offsets AS f
        WHERE f.group_id = o.group_id AND f.commit_timestamp_ms >= ?1
    )
RETURNING group_id
