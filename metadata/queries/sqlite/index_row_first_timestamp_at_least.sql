-- The first row (by offset) of partition (?1, ?2) starting at offset ?4 or
-- later with max_timestamp >= ?3.
SELECT i.base_offset, i.last_offset, i.segment_id, s.object_key,
       i.byte_offset, i.byte_len, i.max_timestamp
FROM index_rows AS i
JOIN segments AS s ON s.id = i.segment_id
WHERE i.topic_id = ?1 AND i.partition = ?2 AND i.max_timestamp >= ?3
  AND i.base_offset >= ?4
ORDER BY i.base_offset
LIMIT 1
