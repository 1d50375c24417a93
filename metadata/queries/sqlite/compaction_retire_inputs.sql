-- ?1 input segment ids as a JSON array of hex: those no index row points at
-- any more stop being compactable.
UPDATE segments SET compactable = 0
WHERE id IN (SELECT unhex(value) FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM index_rows AS r WHERE r.segment_id = segments.id)
