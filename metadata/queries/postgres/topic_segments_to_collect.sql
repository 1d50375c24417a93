-- $1 topic id: its segments become candidates of the collector, before its
-- index rows go.
INSERT INTO segment_gc_candidates (segment_id)
SELECT DISTINCT segment_id FROM index_rows WHERE topic_id = $1
ON CONFLICT DO NOTHING
