-- $1 transactional id, $2 group id
INSERT INTO txn_groups (transactional_id, group_id) VALUES ($1, $2)
ON CONFLICT (transactional_id, group_id) DO NOTHING
