-- Creates partitions ?2..?3 of topic ?1, empty at offset 0.
WITH RECURSIVE numbers (n) AS (
    SELECT ?2 WHERE ?2 < ?3
    UNION ALL
    SELECT n + 1 FROM numbers WHERE n + 1 < ?3
)
INSERT INTO partitions (topic_id, partition, next_offset, log_start_offset)
SELECT ?1, n, 0, 0 FROM numbers
