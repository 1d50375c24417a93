-- The transaction opens on a partition (KIP-890's verification set):
-- $1 topic id, $2 partition, $3 producer id, $4 epoch.
INSERT INTO txn_ongoing (topic_id, partition, producer_id, producer_epoch, first_offset)
VALUES ($1, $2, $3, $4, NULL)
ON CONFLICT (topic_id, partition, producer_id) DO NOTHING
