-- $1 input segment ids: those no index row points at any more stop being
-- compactable and become candidates of the segment collector, whose grace
-- starts now (a fetch that read one of their rows still finds the object).
WITH retired AS (
    UPDATE segments AS s SET compactable = false
    WHERE s.id = ANY($1)
      AND NOT EXISTS (SELECT 1 FROM index_rows AS r WHERE r.segment_id = s.id)
    RETURNING s.id
)
INSERT INTO segment_gc_candidates (segment_id)
SELECT id FROM retired
ON CONFLICT DO NOTHING
