-- ?1 group id
DELETE FROM group_members WHERE group_id = ?1
