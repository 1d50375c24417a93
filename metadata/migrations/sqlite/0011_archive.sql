-- The archive tier (agent/src/jobs/archive.rs). Same tables as
-- migrations/postgres/0012_archive.sql.
--
-- One row per archive pass of a topic: the Iceberg snapshot it made (its
-- sequence number counts the passes) and the manifest listing the files it
-- added. Manifest lists and table metadata are rebuilt from these rows.
CREATE TABLE archive_manifests (
    topic_id         BLOB    NOT NULL CHECK (length(topic_id) = 16),
    sequence_number  INTEGER NOT NULL CHECK (sequence_number >= 1),
    snapshot_id      INTEGER NOT NULL,
    manifest_key     TEXT    NOT NULL,
    manifest_length  INTEGER NOT NULL CHECK (manifest_length >= 0),
    added_files      INTEGER NOT NULL CHECK (added_files >= 0),
    added_rows       INTEGER NOT NULL CHECK (added_rows >= 0),
    committed_ms     INTEGER NOT NULL,
    PRIMARY KEY (topic_id, sequence_number)
) WITHOUT ROWID;

-- One row per archived Parquet file: a range of one partition's offsets.
-- A partition's next range starts after its largest last_offset here.
CREATE TABLE archive_files (
    topic_id         BLOB    NOT NULL CHECK (length(topic_id) = 16),
    partition        INTEGER NOT NULL CHECK (partition >= 0),
    base_offset      INTEGER NOT NULL CHECK (base_offset >= 0),
    last_offset      INTEGER NOT NULL CHECK (last_offset >= base_offset),
    file_id          BLOB    NOT NULL CHECK (length(file_id) = 16),
    object_key       TEXT    NOT NULL,
    size             INTEGER NOT NULL CHECK (size >= 0),
    records          INTEGER NOT NULL CHECK (records >= 0),
    sequence_number  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset)
) WITHOUT ROWID;
