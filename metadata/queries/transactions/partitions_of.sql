-- $1 transactional id: the partitions of its open transaction.
SELECT topic_id, partition FROM txn_partitions WHERE transactional_id = $1
ORDER BY topic_id, partition
