-- Floe metadata schema, SQLite dialect. The Postgres dialect
-- (migrations/postgres) has the same tables and columns; only the types, the
-- id sequence and the commit function differ.
--
-- Ids (topic ids, segment ids) are 16-byte BLOB uuids. Offsets, sizes and
-- timestamps are 64-bit integers. Times are ISO-8601 UTC text.

CREATE TABLE topics (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name        TEXT    NOT NULL UNIQUE,
    partitions  INTEGER NOT NULL CHECK (partitions BETWEEN 1 AND 100000),
    -- Topic configuration overrides as a JSON object of strings.
    config      TEXT    NOT NULL DEFAULT '{}',
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per partition; next_offset is the high watermark, the sequencer's
-- counter advanced by every commit.
CREATE TABLE partitions (
    topic_id          BLOB    NOT NULL REFERENCES topics (id),
    partition         INTEGER NOT NULL CHECK (partition >= 0),
    next_offset       INTEGER NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
    log_start_offset  INTEGER NOT NULL DEFAULT 0 CHECK (log_start_offset >= 0),
    PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;

-- Committed segment files. A row here is the idempotency key of a commit;
-- rows outlive their topics so the garbage collector can find the files.
CREATE TABLE segments (
    id            BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    object_key    TEXT    NOT NULL,
    size          INTEGER NOT NULL CHECK (size >= 0),
    committed_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;

-- The batch index: one row per run of batches of one partition that are
-- adjacent in a segment and were appended by one commit, covering offsets
-- base_offset..=last_offset. Rows of one partition never overlap.
CREATE TABLE index_rows (
    topic_id       BLOB    NOT NULL,
    partition      INTEGER NOT NULL,
    base_offset    INTEGER NOT NULL CHECK (base_offset >= 0),
    last_offset    INTEGER NOT NULL CHECK (last_offset >= base_offset),
    segment_id     BLOB    NOT NULL REFERENCES segments (id),
    byte_offset    INTEGER NOT NULL CHECK (byte_offset >= 0),
    byte_len       INTEGER NOT NULL CHECK (byte_len >= 0),
    max_timestamp  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition)
) WITHOUT ROWID;

-- Fetch: the rows at or after an offset, in order (index_rows_from.sql).
CREATE INDEX index_rows_by_last_offset ON index_rows (topic_id, partition, last_offset);
-- ListOffsets by max timestamp (index_row_max_timestamp.sql).
CREATE INDEX index_rows_by_max_timestamp
    ON index_rows (topic_id, partition, max_timestamp DESC, base_offset);
-- Garbage collection looks rows up by segment.
CREATE INDEX index_rows_by_segment ON index_rows (segment_id);

-- What each batch of a committed segment became, so a retried commit
-- answers exactly as the first one (duplicates and refusals are not in the
-- index). outcome is one of 'appended', 'duplicate', 'unknown_partition',
-- 'out_of_order_sequence', 'invalid_producer_epoch'; base_offset is set for
-- the first two.
CREATE TABLE segment_outcomes (
    segment_id   BLOB    NOT NULL REFERENCES segments (id),
    entry_index  INTEGER NOT NULL CHECK (entry_index >= 0),
    batch_index  INTEGER NOT NULL CHECK (batch_index >= 0),
    outcome      TEXT    NOT NULL CHECK (outcome IN ('appended', 'duplicate',
                     'unknown_partition', 'out_of_order_sequence', 'invalid_producer_epoch')),
    base_offset  INTEGER CHECK ((base_offset IS NOT NULL) = (outcome IN ('appended', 'duplicate'))),
    PRIMARY KEY (segment_id, entry_index, batch_index)
) WITHOUT ROWID;

-- Idempotent producers: the last five batches each producer committed to
-- each partition, all at the producer's current epoch there (a new epoch
-- replaces them). A producer without rows on a partition is unknown there.
CREATE TABLE producer_batches (
    topic_id       BLOB    NOT NULL,
    partition      INTEGER NOT NULL,
    producer_id    INTEGER NOT NULL CHECK (producer_id >= 0),
    epoch          INTEGER NOT NULL CHECK (epoch BETWEEN 0 AND 32767),
    base_sequence  INTEGER NOT NULL CHECK (base_sequence BETWEEN 0 AND 2147483647),
    last_sequence  INTEGER NOT NULL CHECK (last_sequence BETWEEN 0 AND 2147483647),
    base_offset    INTEGER NOT NULL CHECK (base_offset >= 0),
    PRIMARY KEY (topic_id, partition, producer_id, base_offset),
    FOREIGN KEY (topic_id, partition) REFERENCES partitions (topic_id, partition)
) WITHOUT ROWID;

-- The producer id allocator: a single-row counter (a SEQUENCE in Postgres).
-- Ids are never reused.
CREATE TABLE producer_ids (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    next_id  INTEGER NOT NULL CHECK (next_id >= 0)
);
INSERT INTO producer_ids (id, next_id) VALUES (1, 1000);

-- The producer id and current epoch of each transactional id.
CREATE TABLE transactional_ids (
    transactional_id  TEXT    NOT NULL PRIMARY KEY,
    producer_id       INTEGER NOT NULL,
    epoch             INTEGER NOT NULL CHECK (epoch >= 0)
);
