-- $1 segment ids, $2 limit: the index rows pointing at them
-- (index_rows_by_segment), by partition and offset.
SELECT r.topic_id, r.partition, r.base_offset, r.last_offset, r.segment_id,
       r.byte_offset, r.byte_len, r.max_timestamp
FROM index_rows AS r
WHERE r.segment_id = ANY($1)
ORDER BY r.topic_id, r.partition, r.base_offset
LIMIT $2
