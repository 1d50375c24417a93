-- $1 transactional id: the groups of its open transaction.
SELECT group_id FROM txn_groups WHERE transactional_id = $1 ORDER BY group_id
