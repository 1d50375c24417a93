-- commit_segment.sql for a segment with transactional batches or markers
-- (migrations/postgres/0013_transactions.sql): the same arguments, plus
-- $16 the transactional kind of each batch.
SELECT c.committed, c.entry_indexes, c.outcomes, c.base_offsets,
    ARRAY(
        SELECT coalesce(p.log_start_offset, -1)
        FROM unnest($14::uuid[], $15::integer[]) WITH ORDINALITY AS e (topic_id, partition, pos)
        LEFT JOIN partitions p ON p.topic_id = e.topic_id AND p.partition = e.partition
        ORDER BY e.pos
    ) AS log_start_offsets
FROM floe_commit_txn_segment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $16) AS c
