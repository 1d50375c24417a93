-- Floe metadata schema, Postgres dialect. The SQLite dialect
-- (migrations/sqlite) has the same tables and columns; here ids are UUIDs,
-- producer ids come from a SEQUENCE, and a whole segment is committed by one
-- call of floe_commit_segment (below), so a commit is one round trip.
--
-- Offsets, sizes and timestamps are bigint. Times are timestamptz.

CREATE TABLE topics (
    id          uuid        NOT NULL PRIMARY KEY,
    -- Bytewise order and uniqueness, whatever the database's locale.
    name        text        COLLATE "C" NOT NULL UNIQUE,
    partitions  integer     NOT NULL CHECK (partitions BETWEEN 1 AND 100000),
    -- Topic configuration overrides as a JSON object of strings.
    config      jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per partition; next_offset is the high watermark, the sequencer's
-- counter advanced by every commit. A commit locks the rows it advances,
-- in (topic_id, partition) order. Half of each page is left free so that
-- the update of a high watermark stays on its page (a heap-only update,
-- with no new index entry).
CREATE TABLE partitions (
    topic_id          uuid    NOT NULL REFERENCES topics (id),
    partition         integer NOT NULL CHECK (partition >= 0),
    next_offset       bigint  NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
    log_start_offset  bigint  NOT NULL DEFAULT 0 CHECK (log_start_offset >= 0),
    PRIMARY KEY (topic_id, partition)
) WITH (fillfactor = 50);

-- Committed segment files. A row here is the idempotency key of a commit;
-- rows outlive their topics so the garbage collector can find the files.
CREATE TABLE segments (
    id            uuid        NOT NULL PRIMARY KEY,
    object_key    text        NOT NULL,
    size          bigint      NOT NULL CHECK (size >= 0),
    committed_at  timestamptz NOT NULL DEFAULT now()
);

-- The batch index: one row per run of batches of one partition that are
-- adjacent in a segment and were appended by one commit, covering offsets
-- base_offset..=last_offset. Rows of one partition never overlap.
--
-- No foreign keys, here and on producer_batches: each inserted row would run
-- a trigger and a lookup (about 10 µs a row on the test machines, more than
-- the insert, and its lock on the partition row made hot partitions queue
-- longer). floe_commit_segment is their only writer and only writes rows of
-- partitions it holds locked, of the segment it has just inserted; deleting
-- a topic locks its partitions and removes their rows.
CREATE TABLE index_rows (
    topic_id       uuid    NOT NULL,
    partition      integer NOT NULL,
    base_offset    bigint  NOT NULL CHECK (base_offset >= 0),
    last_offset    bigint  NOT NULL CHECK (last_offset >= base_offset),
    segment_id     uuid    NOT NULL,
    byte_offset    bigint  NOT NULL CHECK (byte_offset >= 0),
    byte_len       bigint  NOT NULL CHECK (byte_len >= 0),
    max_timestamp  bigint  NOT NULL,
    -- Fetch finds its rows by this key too (index_rows_from.sql): one index
    -- less to update for each inserted row.
    PRIMARY KEY (topic_id, partition, base_offset)
);

-- ListOffsets by max timestamp (index_row_max_timestamp.sql).
CREATE INDEX index_rows_by_max_timestamp
    ON index_rows (topic_id, partition, max_timestamp DESC, base_offset);
-- Garbage collection looks rows up by segment.
CREATE INDEX index_rows_by_segment ON index_rows (segment_id);

-- What became of each batch of a committed segment, so that a retried
-- commit answers exactly as the first one (duplicates and refusals are not
-- in the index): one row per segment, one array element per batch in
-- commit order. outcome is one of 'appended', 'duplicate',
-- 'unknown_partition', 'out_of_order_sequence', 'invalid_producer_epoch';
-- base_offset is set for the first two. (SQLite keeps a row per batch: its
-- inserts cost next to nothing.)
CREATE TABLE segment_outcomes (
    segment_id     uuid      NOT NULL PRIMARY KEY REFERENCES segments (id),
    entry_indexes  integer[] NOT NULL,
    outcomes       text[]    NOT NULL,
    base_offsets   bigint[]  NOT NULL,
    CHECK (cardinality(outcomes) = cardinality(entry_indexes)
        AND cardinality(base_offsets) = cardinality(entry_indexes))
);

-- Idempotent producers: the last five batches each producer committed to
-- each partition, all at the producer's current epoch there (a new epoch
-- replaces them). A producer without rows on a partition is unknown there.
-- Only a commit holding the partition's row lock changes them.
CREATE TABLE producer_batches (
    topic_id       uuid     NOT NULL,
    partition      integer  NOT NULL,
    producer_id    bigint   NOT NULL CHECK (producer_id >= 0),
    epoch          smallint NOT NULL CHECK (epoch >= 0),
    base_sequence  integer  NOT NULL CHECK (base_sequence >= 0),
    last_sequence  integer  NOT NULL CHECK (last_sequence >= 0),
    base_offset    bigint   NOT NULL CHECK (base_offset >= 0),
    PRIMARY KEY (topic_id, partition, producer_id, base_offset)
);

-- The producer id allocator (a single-row counter in SQLite). Ids are never
-- reused; gaps are harmless.
CREATE SEQUENCE producer_ids AS bigint START WITH 1000;

-- The producer id and current epoch of each transactional id.
CREATE TABLE transactional_ids (
    transactional_id  text     NOT NULL PRIMARY KEY,
    producer_id       bigint   NOT NULL,
    epoch             smallint NOT NULL CHECK (epoch >= 0)
);
