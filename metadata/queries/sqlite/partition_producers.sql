-- ?1 topic id, ?2 partition: each idempotent producer's newest batch on
-- the partition, with when it was committed (ms since the epoch).
SELECT b.producer_id, b.epoch, b.last_sequence,
    CAST((julianday(b.written_at) - 2440587.5) * 86400000 AS INTEGER) AS written_ms
FROM producer_batches AS b
WHERE b.topic_id = ?1 AND b.partition = ?2
  AND b.base_offset = (
      SELECT max(n.base_offset) FROM producer_batches AS n
      WHERE n.topic_id = b.topic_id AND n.partition = b.partition
        AND n.producer_id = b.producer_id
  )
ORDER BY b.producer_id
