DELETE FROM txn_partitions WHERE transactional_id = $1
