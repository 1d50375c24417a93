-- ?1 transactional id, ?2 producer id, ?3 epoch
INSERT INTO transactional_ids (transactional_id, producer_id, epoch) VALUES (?1, ?2, ?3)
ON CONFLICT (transactional_id) DO UPDATE SET producer_id = excluded.producer_id, epoch = excluded.epoch
