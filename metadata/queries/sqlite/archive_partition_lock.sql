-- ?1 topic id, ?2 partition: the partition's log start.
SELECT log_start_offset FROM partitions WHERE topic_id = ?1 AND partition = ?2
