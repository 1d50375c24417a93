-- ?1 id, ?2 object key, ?3 size. Inserts nothing if the segment is already
-- committed: the caller then returns the stored outcomes.
INSERT INTO segments (id, object_key, size) VALUES (?1, ?2, ?3)
ON CONFLICT (id) DO NOTHING
