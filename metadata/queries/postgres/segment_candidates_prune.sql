-- $1 segment ids just forgotten; candidates still referenced (shared with
-- a live topic) leave too: deleting that topic makes them candidates again.
DELETE FROM segment_gc_candidates c
WHERE c.segment_id = ANY($1)
   OR EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = c.segment_id)
