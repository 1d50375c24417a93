-- Creates topic ($1 id, $2 name, $3 partitions, $4 config as JSON text) and
-- its partitions 0..$3, empty at offset 0, in one statement. Creates
-- nothing (0 rows) if the name is taken.
WITH topic AS (
    INSERT INTO topics (id, name, partitions, config)
    VALUES ($1, $2, $3, $4::jsonb)
    ON CONFLICT (name) DO NOTHING
    RETURNING id
)
INSERT INTO partitions (topic_id, partition, next_offset, log_start_offset)
SELECT topic.id, n, 0, 0
FROM topic, generate_series(0, $3 - 1) AS n
