-- ?1 topic id, ?2 partition: the partition's high watermark (the write
-- transaction is the lock).
SELECT next_offset FROM partitions WHERE topic_id = ?1 AND partition = ?2
