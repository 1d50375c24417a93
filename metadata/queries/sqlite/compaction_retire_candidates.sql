-- ?1 input segment ids as a JSON array of hex: those no index row points at
-- any more become candidates of the segment collector, whose grace starts
-- now (a fetch that read one of their rows still finds the object).
INSERT OR IGNORE INTO segment_gc_candidates (segment_id)
SELECT s.id FROM segments AS s
WHERE s.id IN (SELECT unhex(value) FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM index_rows AS r WHERE r.segment_id = s.id)
