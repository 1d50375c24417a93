DELETE FROM txn_offsets WHERE transactional_id = $1
