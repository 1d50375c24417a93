SELECT producer_id, epoch FROM transactional_ids WHERE transactional_id = ?1
