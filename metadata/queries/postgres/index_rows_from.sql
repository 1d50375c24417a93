-- Rows of partition ($1, $2) with last_offset >= $3, at most $4 of them.
-- Rows of a partition never overlap, so they are in the same order by
-- base_offset as by last_offset, and the first one wanted is the row that
-- starts at or before $3 (if it reaches $3) or else the next one: two walks
-- of the primary key, which is the only index on offsets (Postgres keeps no
-- index on last_offset: one less to update for every row a commit inserts).
-- Nothing if $3 is below the partition's log start: read in the same
-- statement (one snapshot), so a fetch racing retention never gets later data.
SELECT i.base_offset, i.last_offset, i.segment_id, s.object_key,
       i.byte_offset, i.byte_len, i.max_timestamp
FROM index_rows AS i
JOIN segments AS s ON s.id = i.segment_id
WHERE i.topic_id = $1 AND i.partition = $2
  AND i.base_offset >= coalesce((
        SELECT max(f.base_offset)
        FROM index_rows AS f
        WHERE f.topic_id = $1 AND f.partition = $2 AND f.base_offset <= $3
      ), 0)
  AND i.last_offset >= $3
  AND $3 >= (SELECT p.log_start_offset FROM partitions AS p
             WHERE p.topic_id = $1 AND p.partition = $2)
ORDER BY i.base_offset
LIMIT $4
