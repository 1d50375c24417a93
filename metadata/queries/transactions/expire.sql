-- Forgets transactional ids without an open transaction whose state last
-- changed before $1 (ms), at most $2 (their partitions, groups and pending
-- offsets go by the cascade; they have none).
DELETE FROM transactional_ids WHERE transactional_id IN (
    SELECT transactional_id FROM transactional_ids
    WHERE state IN ('empty', 'complete_commit', 'complete_abort') AND updated_ms < $1
    ORDER BY updated_ms LIMIT $2
)
