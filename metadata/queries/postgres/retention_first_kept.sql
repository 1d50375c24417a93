-- $1 topic id, $2 partition, $3 timestamp: the first index row, in offset
-- order, holding a record at least that recent; every row before it expires.
SELECT base_offset FROM index_rows
WHERE topic_id = $1 AND partition = $2 AND max_timestamp >= $3
ORDER BY base_offset
LIMIT 1
