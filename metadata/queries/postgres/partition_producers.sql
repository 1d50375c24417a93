-- $1 topic id, $2 partition: each idempotent producer's newest batch on
-- the partition, with when it was committed (ms since the epoch).
SELECT DISTINCT ON (producer_id)
    producer_id, epoch, last_sequence,
    (extract(epoch FROM written_at) * 1000)::bigint AS written_ms
FROM producer_batches WHERE topic_id = $1 AND partition = $2
ORDER BY producer_id, base_offset DESC
