-- Candidate segments no index row points at, committed and made candidates
-- more than $1 microseconds ago, oldest first, at most $2.
SELECT s.id, s.object_key
FROM segment_gc_candidates c
JOIN segments s ON s.id = c.segment_id
WHERE s.committed_at < now() - $1::bigint * interval '1 microsecond'
  AND c.added_at < now() - $1::bigint * interval '1 microsecond'
  AND NOT EXISTS (SELECT 1 FROM index_rows r WHERE r.segment_id = s.id)
ORDER BY s.committed_at
LIMIT $2
