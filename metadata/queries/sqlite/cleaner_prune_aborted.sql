-- ?1 topic id, ?2 partition, ?3 a marker offset: the aborted range whose
-- abort marker a clean dropped (its records went before it), so it holds
-- nothing a read_committed Fetch must skip.
DELETE FROM txn_aborted WHERE topic_id = ?1 AND partition = ?2 AND last_offset = ?3
