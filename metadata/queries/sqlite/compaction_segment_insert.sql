-- ?1 id, ?2 object key, ?3 size, ?4 level, ?5 compactable: the new segment.
INSERT INTO segments (id, object_key, size, level, compactable) VALUES (?1, ?2, ?3, ?4, ?5)
