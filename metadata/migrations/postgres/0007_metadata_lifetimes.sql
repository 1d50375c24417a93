-- When each idempotent producer's batch was committed. A producer's state
-- on a partition expires once its newest batch is older than Kafka's
-- producer.id.expiration.ms (queries/postgres/producers_expire.sql).
-- floe_commit_segment inserts one row per accepted batch, so the default
-- stamps every row; existing rows count from this migration.
ALTER TABLE producer_batches ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();
