-- ?1 group id: its coordinator epoch, 0 if no agent ever claimed it.
SELECT coalesce((SELECT epoch FROM group_coordinators WHERE group_id = ?1), 0)
