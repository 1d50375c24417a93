-- Grows topic $1 from $2 to $3 partitions: the new partitions $2..$3 start
-- empty at offset 0, and the topic's count follows, in one statement.
WITH added AS (
    INSERT INTO partitions (topic_id, partition, next_offset, log_start_offset)
    SELECT $1, n, 0, 0 FROM generate_series($2, $3 - 1) AS n
    RETURNING partition
)
UPDATE topics SET partitions = $3
WHERE id = $1 AND (SELECT count(*) FROM added) = $3 - $2
