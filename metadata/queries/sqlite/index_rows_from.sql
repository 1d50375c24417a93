-- Rows of partition (?1, ?2) with last_offset >= ?3, at most ?4 of them.
-- Rows of a partition never overlap, so last_offset order is base_offset
-- order; ordering by last_offset lets index_rows_by_last_offset return the
-- rows already sorted and stop after ?4 of them.
-- Nothing if ?3 is below the partition's log start: read in the same
-- statement (one snapshot), so a fetch racing retention never gets later data.
SELECT i.base_offset, i.last_offset, i.segment_id, s.object_key,
       i.byte_offset, i.byte_len, i.max_timestamp
FROM index_rows AS i
JOIN segments AS s ON s.id = i.segment_id
WHERE i.topic_id = ?1 AND i.partition = ?2 AND i.last_offset >= ?3
  AND ?3 >= (SELECT p.log_start_offset FROM partitions AS p
             WHERE p.topic_id = ?1 AND p.partition = ?2)
ORDER BY i.last_offset
LIMIT ?4
