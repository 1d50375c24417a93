-- Removes, in one statement, the groups without members (in a stored
-- state) that have no offset committed at or after $1 (ms since the
-- epoch): their stored states and offsets. Returns how many groups it
-- removed.
--
-- Against concurrent writers: a state stored since the snapshot (another
-- generation) stays, and so does an offset committed since (a newer
-- timestamp); both deletes re-check their rows once they hold them.
WITH expired AS (
    SELECT c.group_id, s.generation
    FROM (
        SELECT s.group_id FROM group_states AS s
        UNION
        SELECT o.group_id FROM group_offsets AS o
    ) AS c
    LEFT JOIN group_states AS s ON s.group_id = c.group_id
    WHERE NOT EXISTS (SELECT 1 FROM group_members AS m WHERE m.group_id = c.group_id)
        AND NOT EXISTS (
            SELECT 1 FROM group_offsets AS o
            WHERE o.group_id = c.group_id AND o.commit_timestamp_ms >= $1
        )
),
states AS (
    DELETE FROM group_states AS s
    USING expired AS e
    WHERE s.group_id = e.group_id AND s.generation = e.generation
    RETURNING s.group_id
),
offsets AS (
    DELETE FROM group_offsets AS o
    USING expired AS e
    WHERE o.group_id = e.group_id AND o.commit_timestamp_ms < $1
    RETURNING o.group_id
)
SELECT count(*)
FROM (SELECT group_id FROM states UNION SELECT group_id FROM offsets) AS removed
