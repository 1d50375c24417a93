-- A batch whose own fields the store refuses (negative producer fields, an
-- offset count out of range) is now refused alone, with the outcome
-- 'invalid_record', instead of failing its whole commit
-- (metadata/src/validate.rs, `batch_is_valid`). SQLite cannot change a
-- CHECK constraint in place: the table is made again with the new kind
-- allowed, and its rows copied.

CREATE TABLE segment_outcomes_new (
    segment_id   BLOB    NOT NULL REFERENCES segments (id),
    entry_index  INTEGER NOT NULL CHECK (entry_index >= 0),
    batch_index  INTEGER NOT NULL CHECK (batch_index >= 0),
    outcome      TEXT    NOT NULL CHECK (outcome IN ('appended', 'duplicate',
                     'unknown_partition', 'out_of_order_sequence', 'invalid_producer_epoch',
                     'invalid_record')),
    base_offset  INTEGER CHECK ((base_offset IS NOT NULL) = (outcome IN ('appended', 'duplicate'))),
    PRIMARY KEY (segment_id, entry_index, batch_index)
) WITHOUT ROWID;

INSERT INTO segment_outcomes_new (segment_id, entry_index, batch_index, outcome, base_offset)
SELECT segment_id, entry_index, batch_index, outcome, base_offset FROM segment_outcomes;

DROP TABLE segment_outcomes;

ALTER TABLE segment_outcomes_new RENAME TO segment_outcomes;
