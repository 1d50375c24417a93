-- Whether producer ?1 belongs to a transactional id now at an epoch newer
-- than ?2: its refused transactional batch is INVALID_PRODUCER_EPOCH.
SELECT count(*) FROM transactional_ids WHERE producer_id = ?1 AND epoch > ?2
