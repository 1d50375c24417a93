DELETE FROM txn_partitions WHERE topic_id = $1
