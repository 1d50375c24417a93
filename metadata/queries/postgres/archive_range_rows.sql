-- $1 topic id, $2 partition, $3 first and $4 last offset of an archived
-- range: the rows overlapping it, their smallest base, largest last offset
-- and the offsets they cover. The range is covered exactly when these are
-- $3, $4 and $4 - $3 + 1.
SELECT COALESCE(MIN(base_offset), -1)::bigint,
       COALESCE(MAX(last_offset), -1)::bigint,
       COALESCE(SUM(last_offset - base_offset + 1), 0)::bigint
FROM index_rows
WHERE topic_id = $1 AND partition = $2 AND last_offset >= $3 AND base_offset <= $4
