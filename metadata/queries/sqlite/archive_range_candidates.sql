-- ?1 topic id, ?2 partition, ?3 first and ?4 last offset of an archived
-- range: the segments of its rows become candidates of the collector.
INSERT OR IGNORE INTO segment_gc_candidates (segment_id)
SELECT DISTINCT segment_id FROM index_rows
WHERE topic_id = ?1 AND partition = ?2 AND base_offset >= ?3 AND last_offset <= ?4
