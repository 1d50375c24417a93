-- ?1 topic id, ?2 partition, ?3 producer id, ?4 first offset, ?5 marker offset
INSERT INTO txn_aborted (topic_id, partition, producer_id, first_offset, last_offset)
VALUES (?1, ?2, ?3, ?4, ?5)
