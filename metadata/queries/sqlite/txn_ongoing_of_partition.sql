-- The open transactions on a partition: ?1 topic id, ?2 partition.
SELECT producer_id, producer_epoch, first_offset FROM txn_ongoing
WHERE topic_id = ?1 AND partition = ?2
