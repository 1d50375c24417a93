-- ?1 topic id, ?2 partition, ?3 the marker offset of a new aborted range
UPDATE partitions SET last_aborted_offset = max(last_aborted_offset, ?3)
WHERE topic_id = ?1 AND partition = ?2
