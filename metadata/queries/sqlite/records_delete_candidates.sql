-- ?1 topic id, ?2 partition, ?3 new log start: the segments of the rows
-- that end below it become candidates of the segment collector.
INSERT OR IGNORE INTO segment_gc_candidates (segment_id)
SELECT DISTINCT segment_id FROM index_rows
WHERE topic_id = ?1 AND partition = ?2 AND last_offset < ?3
