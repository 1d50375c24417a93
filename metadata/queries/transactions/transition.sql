-- The compare-and-set of every state change: $1 transactional id, $2
-- producer id, $3 epoch and $4 state expected; $5 new state, $6 new epoch,
-- $7 now. Ending a transaction (complete_*) forgets its start; a bumped
-- epoch remembers the one before (last_epoch).
UPDATE transactional_ids
SET state = $5, epoch = $6, updated_ms = $7,
    last_epoch = CASE WHEN $6 <> $3 THEN $3 ELSE last_epoch END,
    started_ms = CASE WHEN $5 IN ('complete_commit', 'complete_abort') THEN -1 ELSE started_ms END
WHERE transactional_id = $1 AND producer_id = $2 AND epoch = $3 AND state = $4
