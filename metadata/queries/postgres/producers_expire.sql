-- Forgets the idempotent producers whose newest batch on a partition was
-- committed more than $1 microseconds ago (Kafka's producer.id.expiration.ms),
-- at most $2 producer-partitions. A batch committed meanwhile is not in this
-- statement's snapshot and survives it: that producer starts afresh with it.
-- Returns the rows deleted.
WITH expired AS (
    SELECT topic_id, partition, producer_id
    FROM producer_batches
    GROUP BY topic_id, partition, producer_id
    HAVING max(written_at) < now() - $1::bigint * interval '1 microsecond'
    LIMIT $2
), gone AS (
    DELETE FROM producer_batches AS b
    USING expired AS e
    WHERE b.topic_id = e.topic_id AND b.partition = e.partition
      AND b.producer_id = e.producer_id
    RETURNING 1
)
SELECT count(*) FROM gone
