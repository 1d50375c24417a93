-- $1 topic id, $2 partition, $3 new log start: never moves back.
UPDATE partitions SET log_start_offset = GREATEST(log_start_offset, $3)
WHERE topic_id = $1 AND partition = $2
RETURNING log_start_offset
