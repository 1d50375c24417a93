-- The row of partition ($1, $2) with the largest max_timestamp, the first
-- by offset among ties.
SELECT i.base_offset, i.last_offset, i.segment_id, s.object_key,
       i.byte_offset, i.byte_len, i.max_timestamp
FROM index_rows AS i
JOIN segments AS s ON s.id = i.segment_id
WHERE i.topic_id = $1 AND i.partition = $2
ORDER BY i.max_timestamp DESC, i.base_offset
LIMIT 1
