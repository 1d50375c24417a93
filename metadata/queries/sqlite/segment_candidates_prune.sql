-- ?1 segment ids just forgotten, as a JSON array of hex; candidates still
-- referenced (shared with a live topic) leave too: deleting that topic makes
-- them candidates again.
DELETE FROM segment_gc_candidates
WHERE segment_id IN (SELECT unhex(value) FROM json_each(?1))
   OR EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = segment_gc_candidates.segment_id)
