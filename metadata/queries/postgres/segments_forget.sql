-- $1 segment ids; segments an index row points at are kept.
DELETE FROM segments s
WHERE s.id = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = s.id)
