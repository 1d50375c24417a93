-- Forgets the idempotent producers whose newest batch on a partition was
-- committed more than ?1 milliseconds ago (Kafka's producer.id.expiration.ms),
-- at most ?2 producer-partitions.
DELETE FROM producer_batches
WHERE (topic_id, partition, producer_id) IN (
    SELECT topic_id, partition, producer_id
    FROM producer_batches
    GROUP BY topic_id, partition, producer_id
    HAVING max(written_at) < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%.3f seconds', ?1 / 1000.0))
    LIMIT ?2
)
