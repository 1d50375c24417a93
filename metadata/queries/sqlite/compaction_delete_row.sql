-- ?1 topic id, ?2 partition, ?3 base offset: a replaced row.
DELETE FROM index_rows WHERE topic_id = ?1 AND partition = ?2 AND base_offset = ?3
