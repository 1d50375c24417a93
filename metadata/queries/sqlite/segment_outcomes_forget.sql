-- ?1 segment ids as a JSON array of hex; segments an index row points at
-- are kept.
DELETE FROM segment_outcomes
WHERE segment_id IN (SELECT unhex(value) FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = segment_outcomes.segment_id)
