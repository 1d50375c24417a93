-- $1 transactional id, $2 group id: whether the group is in the transaction.
SELECT count(*) FROM txn_groups WHERE transactional_id = $1 AND group_id = $2
