-- The offsets of many partitions in one statement (see
-- partition_offsets.sql for the columns).
-- ?1 the partitions as a JSON array of [topic id in hex, partition]. Each
-- answer carries the 0-based position of its partition in the array;
-- unknown ones are absent.
SELECT q.key, p.log_start_offset, p.next_offset,
    coalesce((SELECT min(o.first_offset) FROM txn_ongoing AS o
              WHERE o.topic_id = p.topic_id AND o.partition = p.partition
                  AND o.first_offset IS NOT NULL), p.next_offset),
    p.last_aborted_offset
FROM json_each(?1) AS q
JOIN partitions p ON p.topic_id = unhex(q.value ->> 0) AND p.partition = q.value ->> 1
