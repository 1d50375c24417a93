-- A group's stored state joined with its members: one row per member in
-- member order, or one row with NULL member columns for a group without
-- members; no row for a group without a stored state.
-- $1 group id
SELECT s.generation, s.protocol_type, s.protocol, s.leader,
    m.member_index, m.member_id, m.group_instance_id, m.client_id, m.client_host,
    m.session_timeout_ms, m.rebalance_timeout_ms, m.metadata, m.assignment
FROM group_states AS s
LEFT JOIN group_members AS m ON m.group_id = s.group_id
WHERE s.group_id = $1
ORDER BY m.member_index
