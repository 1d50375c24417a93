-- Forgets producer ?3 on partition (?1, ?2), before its history is rewritten.
DELETE FROM producer_batches WHERE topic_id = ?1 AND partition = ?2 AND producer_id = ?3
