-- A marker ended the transaction: ?1 topic id, ?2 partition, ?3 producer id
DELETE FROM txn_ongoing WHERE topic_id = ?1 AND partition = ?2 AND producer_id = ?3
