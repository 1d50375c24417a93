-- Transactions: see migrations/postgres/0013_transactions.sql, the same
-- tables. The commit rules run in Rust (metadata/src/sequencer.rs).

ALTER TABLE transactional_ids ADD COLUMN state TEXT NOT NULL DEFAULT 'empty'
    CHECK (state IN ('empty', 'ongoing', 'prepare_commit', 'prepare_abort',
        'complete_commit', 'complete_abort'));
ALTER TABLE transactional_ids ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 60000
    CHECK (timeout_ms > 0);
ALTER TABLE transactional_ids ADD COLUMN started_ms INTEGER NOT NULL DEFAULT -1;
ALTER TABLE transactional_ids ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transactional_ids ADD COLUMN last_epoch INTEGER NOT NULL DEFAULT -1;

CREATE INDEX transactional_ids_by_producer ON transactional_ids (producer_id);

CREATE TABLE txn_partitions (
    transactional_id  TEXT    NOT NULL REFERENCES transactional_ids ON DELETE CASCADE,
    topic_id          BLOB    NOT NULL,
    partition         INTEGER NOT NULL,
    PRIMARY KEY (transactional_id, topic_id, partition)
) WITHOUT ROWID;

CREATE TABLE txn_groups (
    transactional_id  TEXT NOT NULL REFERENCES transactional_ids ON DELETE CASCADE,
    group_id          TEXT NOT NULL,
    PRIMARY KEY (transactional_id, group_id)
) WITHOUT ROWID;

CREATE TABLE txn_offsets (
    transactional_id     TEXT    NOT NULL REFERENCES transactional_ids ON DELETE CASCADE,
    group_id             TEXT    NOT NULL,
    topic_id             BLOB    NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition            INTEGER NOT NULL CHECK (partition >= 0),
    committed_offset     INTEGER NOT NULL,
    leader_epoch         INTEGER NOT NULL,
    metadata             BLOB,
    commit_timestamp_ms  INTEGER NOT NULL,
    PRIMARY KEY (transactional_id, group_id, topic_id, partition)
) WITHOUT ROWID;
CREATE INDEX txn_offsets_by_group ON txn_offsets (group_id, topic_id, partition);

CREATE TABLE txn_ongoing (
    topic_id        BLOB    NOT NULL,
    partition       INTEGER NOT NULL,
    producer_id     INTEGER NOT NULL,
    producer_epoch  INTEGER NOT NULL,
    first_offset    INTEGER,
    PRIMARY KEY (topic_id, partition, producer_id)
) WITHOUT ROWID;
CREATE INDEX txn_ongoing_first ON txn_ongoing (topic_id, partition, first_offset)
    WHERE first_offset IS NOT NULL;

CREATE TABLE txn_aborted (
    topic_id      BLOB    NOT NULL,
    partition     INTEGER NOT NULL,
    producer_id   INTEGER NOT NULL,
    first_offset  INTEGER NOT NULL,
    last_offset   INTEGER NOT NULL,
    PRIMARY KEY (topic_id, partition, last_offset)
) WITHOUT ROWID;

ALTER TABLE partitions ADD COLUMN last_aborted_offset INTEGER NOT NULL DEFAULT -1;

-- A transactional batch refused by the commit is stored as
-- 'invalid_txn_state': the CHECK of segment_outcomes is made again.
CREATE TABLE segment_outcomes_new (
    segment_id   BLOB    NOT NULL REFERENCES segments (id),
    entry_index  INTEGER NOT NULL CHECK (entry_index >= 0),
    batch_index  INTEGER NOT NULL CHECK (batch_index >= 0),
    outcome      TEXT    NOT NULL CHECK (outcome IN ('appended', 'duplicate',
                     'unknown_partition', 'out_of_order_sequence', 'invalid_producer_epoch',
                     'invalid_record', 'invalid_txn_state')),
    base_offset  INTEGER CHECK ((base_offset IS NOT NULL) = (outcome IN ('appended', 'duplicate'))),
    PRIMARY KEY (segment_id, entry_index, batch_index)
) WITHOUT ROWID;

INSERT INTO segment_outcomes_new (segment_id, entry_index, batch_index, outcome, base_offset)
SELECT segment_id, entry_index, batch_index, outcome, base_offset FROM segment_outcomes;

DROP TABLE segment_outcomes;

ALTER TABLE segment_outcomes_new RENAME TO segment_outcomes;
