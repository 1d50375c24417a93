-- Segments that may have lost their last index row: those of deleted
-- topics and of rows expired by retention. The segment collector checks
-- only these, so its work follows what was deleted, not the size of the log
-- (segments can number millions). added_at starts the grace a candidate
-- waits, so a fetch that read an index row just before it went still finds
-- the object.
CREATE TABLE segment_gc_candidates (
    segment_id  uuid         NOT NULL PRIMARY KEY,
    added_at    timestamptz  NOT NULL DEFAULT now()
);
