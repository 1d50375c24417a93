-- Moves the high watermark of partition (?1, ?2) to ?3.
UPDATE partitions SET next_offset = ?3 WHERE topic_id = ?1 AND partition = ?2
