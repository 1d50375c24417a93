-- $1 topic id, $2 partition: locks the partition (as retention and commits
-- do) and reads its log start.
SELECT log_start_offset FROM partitions WHERE topic_id = $1 AND partition = $2 FOR UPDATE
