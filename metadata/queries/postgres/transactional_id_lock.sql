-- $1 transactional id: locks its row for the coordinator's change.
SELECT 1 FROM transactional_ids WHERE transactional_id = $1 FOR UPDATE
