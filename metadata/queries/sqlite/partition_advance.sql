-- Takes ?3 offsets from partition (?1, ?2); returns the first of them, or no
-- row if the partition does not exist.
UPDATE partitions SET next_offset = next_offset + ?3
WHERE topic_id = ?1 AND partition = ?2
RETURNING next_offset - ?3 AS base_offset
