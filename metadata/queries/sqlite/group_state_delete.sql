-- Deletes a group's state; its members go with it (ON DELETE CASCADE).
-- ?1 group id
DELETE FROM group_states WHERE group_id = ?1
