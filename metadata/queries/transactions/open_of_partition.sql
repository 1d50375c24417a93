-- The open transactions on a partition: $1 topic id, $2 partition.
SELECT producer_id, CAST(producer_epoch AS bigint) AS producer_epoch, first_offset
FROM txn_ongoing WHERE topic_id = $1 AND partition = $2 ORDER BY producer_id
