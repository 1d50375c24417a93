-- $1 topic id, $2 partition, $3 first and $4 last offset of an archived
-- range: its rows go (rows pointing at the Parquet file replace them).
DELETE FROM index_rows
WHERE topic_id = $1 AND partition = $2 AND base_offset >= $3 AND last_offset <= $4
