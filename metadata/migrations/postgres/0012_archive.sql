-- The archive tier (agent/src/jobs/archive.rs). Same tables as
-- migrations/sqlite/0011_archive.sql.
--
-- One row per archive pass of a topic: the Iceberg snapshot it made (its
-- sequence number counts the passes) and the manifest listing the files it
-- added. Manifest lists and table metadata are rebuilt from these rows.
CREATE TABLE archive_manifests (
    topic_id         uuid    NOT NULL,
    sequence_number  bigint  NOT NULL CHECK (sequence_number >= 1),
    snapshot_id      bigint  NOT NULL,
    manifest_key     text    NOT NULL,
    manifest_length  bigint  NOT NULL CHECK (manifest_length >= 0),
    added_files      bigint  NOT NULL CHECK (added_files >= 0),
    added_rows       bigint  NOT NULL CHECK (added_rows >= 0),
    committed_ms     bigint  NOT NULL,
    PRIMARY KEY (topic_id, sequence_number)
);

-- One row per archived Parquet file: a range of one partition's offsets.
-- A partition's next range starts after its largest last_offset here.
CREATE TABLE archive_files (
    topic_id         uuid    NOT NULL,
    partition        integer NOT NULL CHECK (partition >= 0),
    base_offset      bigint  NOT NULL CHECK (base_offset >= 0),
    last_offset      bigint  NOT NULL CHECK (last_offset >= base_offset),
    file_id          uuid    NOT NULL,
    object_key       text    NOT NULL,
    size             bigint  NOT NULL CHECK (size >= 0),
    records          bigint  NOT NULL CHECK (records >= 0),
    sequence_number  bigint  NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset)
);
