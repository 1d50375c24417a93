-- Rows of partition ($1, $2) with last_offset >= $3, at most $4 of them.
-- Rows of a partition never overlap, so last_offset order is base_offset
-- order; ordering by last_offset lets index_rows_by_last_offset return the
-- rows already sorted and stop after $4 of them.
SELECT i.base_offset, i.last_offset, i.segment_id, s.object_key,
       i.byte_offset, i.byte_len, i.max_timestamp
FROM index_rows AS i
JOIN segments AS s ON s.id = i.segment_id
WHERE i.topic_id = $1 AND i.partition = $2 AND i.last_offset >= $3
ORDER BY i.last_offset
LIMIT $4
