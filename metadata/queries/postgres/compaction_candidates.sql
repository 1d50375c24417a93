-- $1 level, $2 size bound (exclusive), $3 limit: the oldest compactable
-- segments of the level that index rows still point at (segments_compactable
-- index; those without rows wait there for the collector).
SELECT s.id, s.object_key, s.size, s.level
FROM segments AS s
WHERE s.compactable AND s.level = $1 AND s.size < $2
  AND EXISTS (SELECT 1 FROM index_rows AS r WHERE r.segment_id = s.id)
ORDER BY s.committed_at
LIMIT $3
