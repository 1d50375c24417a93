-- $1 segment ids (listed in the bucket): committed segments no index row
-- points at (every batch of their commit was a duplicate or refused) become
-- candidates of the segment collector, which nothing else would make them.
INSERT INTO segment_gc_candidates (segment_id)
SELECT s.id FROM segments s
WHERE s.id = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = s.id)
ON CONFLICT DO NOTHING
