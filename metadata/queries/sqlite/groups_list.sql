-- Every group with a stored state or committed offsets, by group id
-- (bytewise: SQLite's default BINARY collation).
SELECT s.group_id, s.protocol_type,
    EXISTS (SELECT 1 FROM group_members AS m WHERE m.group_id = s.group_id) AS has_members
FROM group_states AS s
UNION ALL
SELECT DISTINCT o.group_id, NULL, false
FROM group_offsets AS o
WHERE NOT EXISTS (SELECT 1 FROM group_states AS s WHERE s.group_id = o.group_id)
ORDER BY group_id
