-- Every transactional id after $1 (by id), at most $2.
SELECT transactional_id, producer_id, CAST(epoch AS bigint) AS epoch, state, timeout_ms,
    started_ms, updated_ms, CAST(last_epoch AS bigint) AS last_epoch
FROM transactional_ids WHERE transactional_id > $1
ORDER BY transactional_id LIMIT $2
