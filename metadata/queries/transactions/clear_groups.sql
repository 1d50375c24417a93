DELETE FROM txn_groups WHERE transactional_id = $1
