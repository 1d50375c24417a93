-- When each idempotent producer's batch was committed. A producer's state
-- on a partition expires once its newest batch is older than Kafka's
-- producer.id.expiration.ms (queries/sqlite/producers_expire.sql). SQLite
-- cannot add a column whose default is the time, so the insert sets it and
-- existing rows count from this migration.
ALTER TABLE producer_batches ADD COLUMN written_at TEXT NOT NULL DEFAULT '';
UPDATE producer_batches SET written_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
