-- Segments that may have lost their last index row: those of deleted
-- topics and of rows expired by retention. The segment collector checks only
-- these, so its work follows what was deleted, not the size of the log.
-- Same table as migrations/postgres/0005_segment_candidates.sql.
CREATE TABLE segment_gc_candidates (
    segment_id  BLOB  NOT NULL PRIMARY KEY CHECK (length(segment_id) = 16),
    added_at    TEXT  NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;
