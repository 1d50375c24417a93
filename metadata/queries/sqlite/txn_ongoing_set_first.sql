-- ?1 topic id, ?2 partition, ?3 producer id, ?4 the transaction's first offset
UPDATE txn_ongoing SET first_offset = ?4
WHERE topic_id = ?1 AND partition = ?2 AND producer_id = ?3 AND first_offset IS NULL
