-- The offsets of many partitions in one statement.
-- $1 topic ids, $2 partitions (parallel arrays). Each answer carries the
-- 1-based position of its partition in the arrays; unknown ones are absent.
SELECT q.ord, p.log_start_offset, p.next_offset
FROM unnest($1::uuid[], $2::integer[]) WITH ORDINALITY AS q (topic_id, partition, ord)
JOIN partitions p ON p.topic_id = q.topic_id AND p.partition = q.partition
