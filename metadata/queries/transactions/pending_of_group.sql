-- The partitions with offsets of $1 (a group) pending in open transactions.
SELECT DISTINCT topic_id, partition FROM txn_offsets WHERE group_id = $1
ORDER BY topic_id, partition
