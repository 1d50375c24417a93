-- $1 transactional id, $2 topic id, $3 partition
INSERT INTO txn_partitions (transactional_id, topic_id, partition) VALUES ($1, $2, $3)
ON CONFLICT (transactional_id, topic_id, partition) DO NOTHING
