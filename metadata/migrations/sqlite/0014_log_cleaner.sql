-- The log cleaner's progress per partition of a compacted topic
-- (agent/src/jobs/log_cleaner.rs): where the dirty section starts, and
-- when which tombstones may go (delete.retention.ms after a clean first
-- kept them). Goes with its partition.
CREATE TABLE log_cleaner_progress (
    topic_id              BLOB    NOT NULL,
    partition             INTEGER NOT NULL,
    cleaned_offset        INTEGER NOT NULL CHECK (cleaned_offset >= 0),
    tombstones_below      INTEGER NOT NULL CHECK (tombstones_below >= 0),
    pending_offset        INTEGER CHECK (pending_offset >= 0),
    pending_deadline_ms   INTEGER,
    PRIMARY KEY (topic_id, partition),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition)
        ON DELETE CASCADE
) WITHOUT ROWID;
