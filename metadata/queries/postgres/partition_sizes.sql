-- $1 topic id: the bytes of each partition's batches in segment objects
-- (its index rows' lengths), for the partitions that have any.
SELECT partition, sum(byte_len)::bigint AS bytes
FROM index_rows WHERE topic_id = $1
GROUP BY partition ORDER BY partition
