-- ?1 group id
DELETE FROM group_offsets WHERE group_id = ?1
