-- $1 segment ids; segments an index row points at are kept.
DELETE FROM segment_outcomes o
WHERE o.segment_id = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = o.segment_id)
