-- The log cleaner's progress per partition of a compacted topic
-- (agent/src/jobs/log_cleaner.rs), kept here so whichever agent takes the
-- cleaner's lease carries on: where the dirty section starts, and when
-- which tombstones may go (delete.retention.ms after a clean first kept
-- them). Goes with its partition.
CREATE TABLE log_cleaner_progress (
    topic_id              uuid    NOT NULL,
    partition             integer NOT NULL,
    cleaned_offset        bigint  NOT NULL CHECK (cleaned_offset >= 0),
    tombstones_below      bigint  NOT NULL CHECK (tombstones_below >= 0),
    pending_offset        bigint  CHECK (pending_offset >= 0),
    pending_deadline_ms   bigint,
    PRIMARY KEY (topic_id, partition),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition)
        ON DELETE CASCADE
);
