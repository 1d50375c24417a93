-- The offsets of many partitions in one statement (see
-- partition_offsets.sql for the columns).
-- $1 topic ids, $2 partitions (parallel arrays). Each answer carries the
-- 1-based position of its partition in the arrays; unknown ones are absent.
SELECT q.ord, p.log_start_offset, p.next_offset,
    coalesce((SELECT min(o.first_offset) FROM txn_ongoing AS o
              WHERE o.topic_id = p.topic_id AND o.partition = p.partition
                  AND o.first_offset IS NOT NULL), p.next_offset),
    p.last_aborted_offset
FROM unnest($1::uuid[], $2::integer[]) WITH ORDINALITY AS q (topic_id, partition, ord)
JOIN partitions p ON p.topic_id = q.topic_id AND p.partition = q.partition
