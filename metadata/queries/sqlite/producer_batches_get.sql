-- The remembered batches of producer ?3 on partition (?1, ?2), oldest first.
SELECT epoch, base_sequence, last_sequence, base_offset
FROM producer_batches
WHERE topic_id = ?1 AND partition = ?2 AND producer_id = ?3
ORDER BY base_offset
