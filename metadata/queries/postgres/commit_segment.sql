-- Commits a segment in one round trip (migrations/postgres/0002_commit_segment.sql):
-- $1 segment id, $2 object key, $3 size, then one array element per batch:
-- $4 entry index, $5 topic id, $6 partition, $7 byte offset, $8 byte length,
-- $9 offset count, $10 max timestamp, $11 producer id (NULL: none),
-- $12 producer epoch, $13 base sequence; then one element per entry:
-- $14 topic id, $15 partition. One row back: whether this call
-- committed the segment (false: a retry, answered from the stored
-- outcomes), then the entry index, outcome and base offset of every batch,
-- as arrays in commit order, and the log start offset of every entry's
-- partition (-1: gone), for Produce's answer. A commit never moves a log
-- start, so the statement's snapshot reads the value the commit saw.
SELECT c.committed, c.entry_indexes, c.outcomes, c.base_offsets,
    ARRAY(
        SELECT coalesce(p.log_start_offset, -1)
        FROM unnest($14::uuid[], $15::integer[]) WITH ORDINALITY AS e (topic_id, partition, pos)
        LEFT JOIN partitions p ON p.topic_id = e.topic_id AND p.partition = e.partition
        ORDER BY e.pos
    ) AS log_start_offsets
FROM floe_commit_segment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) AS c
