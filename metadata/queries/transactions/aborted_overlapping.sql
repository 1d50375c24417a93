-- The aborted transactions of a partition overlapping offsets [$3, $4]:
-- $1 topic id, $2 partition, at most $5, by marker offset.
SELECT producer_id, first_offset, last_offset FROM txn_aborted
WHERE topic_id = $1 AND partition = $2 AND last_offset >= $3 AND first_offset <= $4
ORDER BY last_offset LIMIT $5
