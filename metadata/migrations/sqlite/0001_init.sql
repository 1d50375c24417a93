-- Floe metadata schema, SQLite dialect. The Postgres dialect
-- (migrations/postgres) has the same tables and columns; only the types and
-- the id sequence differ.
--
-- Ids (topic ids, segment ids) are 16-byte BLOB uuids. Offsets, sizes and
-- timestamps are 64-bit integers. Times are ISO-8601 UTC text.

CREATE TABLE topics (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name        TEXT    NOT NULL UNIQUE,
    partitions  INTEGER NOT NULL CHECK (partitions >= 1),
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

-- The batch index: one row per partition per segment, covering offsets
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
-- Idempotent re-commit and garbage collection look rows up by segment.
CREATE INDEX index_rows_by_segment ON index_rows (segment_id);

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
