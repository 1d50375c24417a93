-- ?1 segment ids (listed in the bucket) as a JSON array of hex: committed
-- segments no index row points at (every batch of their commit was a
-- duplicate or refused) become candidates of the segment collector, which
-- nothing else would make them.
INSERT OR IGNORE INTO segment_gc_candidates (segment_id)
SELECT s.id FROM segments s
WHERE s.id IN (SELECT unhex(value) FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = s.id)
