-- The high watermark and log start offset of partition (?1, ?2); no row if
-- it does not exist.
SELECT next_offset, log_start_offset FROM partitions WHERE topic_id = ?1 AND partition = ?2
