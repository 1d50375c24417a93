-- ?1 group id
SELECT generation FROM group_states WHERE group_id = ?1
