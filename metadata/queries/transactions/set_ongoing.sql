-- $1 transactional id, $2 now: the transaction is open (its start kept if
-- it already was).
UPDATE transactional_ids
SET started_ms = CASE WHEN state = 'ongoing' THEN started_ms ELSE $2 END,
    state = 'ongoing', updated_ms = $2
WHERE transactional_id = $1
