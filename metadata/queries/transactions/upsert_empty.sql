-- InitProducerId: $1 transactional id, $2 producer id, $3 epoch, $4 timeout,
-- $5 now. The id's transaction is Empty afterwards.
INSERT INTO transactional_ids (transactional_id, producer_id, epoch, state, timeout_ms,
    started_ms, updated_ms)
VALUES ($1, $2, $3, 'empty', $4, -1, $5)
ON CONFLICT (transactional_id) DO UPDATE SET
    producer_id = excluded.producer_id, epoch = excluded.epoch, state = 'empty',
    timeout_ms = excluded.timeout_ms, started_ms = -1, updated_ms = excluded.updated_ms,
    last_epoch = -1
