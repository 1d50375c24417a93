-- Commits a segment in one round trip (migrations/postgres/0002_commit_segment.sql):
-- $1 segment id, $2 object key, $3 size, then one array element per batch:
-- $4 entry index, $5 topic id, $6 partition, $7 byte offset, $8 byte length,
-- $9 offset count, $10 max timestamp, $11 producer id (NULL: none),
-- $12 producer epoch, $13 base sequence. One row back: whether this call
-- committed the segment (false: a retry, answered from the stored
-- outcomes), then the entry index, outcome and base offset of every batch,
-- as arrays in commit order.
SELECT committed, entry_indexes, outcomes, base_offsets
FROM floe_commit_segment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
