SELECT log_start_offset, next_offset FROM partitions WHERE topic_id = $1 AND partition = $2
