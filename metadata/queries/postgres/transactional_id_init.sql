-- InitProducerId for transactional id $1, in one statement: the first call
-- remembers a fresh producer id at epoch 0; later calls bump the epoch, or
-- take a fresh id at epoch 0 once the epoch has reached 32766
-- (i16::MAX - 1). The fresh id is drawn on every call (EXCLUDED.producer_id)
-- and left unused when the epoch is bumped: ids are never reused, gaps are
-- harmless. Concurrent calls for one id queue on its row lock.
INSERT INTO transactional_ids AS t (transactional_id, producer_id, epoch)
VALUES ($1, nextval('producer_ids'), 0)
ON CONFLICT (transactional_id) DO UPDATE SET
    producer_id = CASE WHEN t.epoch < 32766 THEN t.producer_id ELSE EXCLUDED.producer_id END,
    epoch = CASE WHEN t.epoch < 32766 THEN t.epoch + 1 ELSE 0 END
RETURNING producer_id, epoch::bigint AS epoch
